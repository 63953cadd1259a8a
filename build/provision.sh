#!/usr/bin/env bash
# Provisions the native pieces OnnxCnn needs; run by the build when a file is missing, idempotent.
#   build/provision.sh ort            ONNX Runtime 1.30.0 (libonnxruntime.so.1) from npm onnxruntime-node
#   build/provision.sh apt PKG FILE   a Debian package, checked by one file it installs
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
native="$repo/.native"
ort_version=1.30.0
# sha256 of bin/napi-v6/linux/x64/libonnxruntime.so.1 in onnxruntime-node@1.30.0
ort_sha256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23

fail() { echo "error: $*" >&2; exit 1; }

provision_ort() {
  local dest="$native/onnxruntime-$ort_version"
  local lib="$dest/libonnxruntime.so.1"
  mkdir -p "$native"
  exec 9>"$native/.ort.lock"
  flock 9
  if [ -f "$lib" ] && echo "$ort_sha256  $lib" | sha256sum --check --status; then
    return 0
  fi
  command -v npm >/dev/null || fail "npm is needed to fetch ONNX Runtime (npm package onnxruntime-node@$ort_version); install Node.js and npm, or set ONNXCNN_ORT_LIBRARY to a libonnxruntime.so.1 of version >= $ort_version"
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  echo "provision: fetching onnxruntime-node@$ort_version from npm for libonnxruntime.so.1" >&2
  (cd "$tmp" && npm pack "onnxruntime-node@$ort_version" --silent >/dev/null) \
    || fail "npm pack onnxruntime-node@$ort_version failed (is the npm registry reachable?)"
  tar -xzf "$tmp"/onnxruntime-node-"$ort_version".tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1 \
    || fail "onnxruntime-node@$ort_version has no package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
  local got
  got=$(sha256sum "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" | cut -d' ' -f1)
  [ "$got" = "$ort_sha256" ] || fail "libonnxruntime.so.1 from onnxruntime-node@$ort_version has sha256 $got, expected $ort_sha256"
  mkdir -p "$dest"
  # Atomic: a half-copied library is never visible under its final name.
  cp "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$dest/.libonnxruntime.so.1.tmp"
  mv -f "$dest/.libonnxruntime.so.1.tmp" "$lib"
  echo "provision: ONNX Runtime $ort_version -> $lib" >&2
}

provision_apt() {
  local pkg=$1 file=$2
  [ -e "$file" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    fail "$pkg is not installed ($file is missing); run: sudo apt-get update && sudo apt-get install -y $pkg"
  fi
  mkdir -p "$native"
  exec 8>"$native/.apt.lock"
  flock 8
  [ -e "$file" ] && return 0
  echo "provision: apt-get install $pkg" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "$pkg" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq "$pkg" >/dev/null || fail "apt-get install -y $pkg failed"
  fi
  [ -e "$file" ] || fail "$pkg installed but $file is still missing"
}

case "${1:-}" in
  ort) provision_ort ;;
  apt) [ $# -eq 3 ] || fail "usage: provision.sh apt PACKAGE FILE"; provision_apt "$2" "$3" ;;
  *) fail "usage: provision.sh ort | apt PACKAGE FILE" ;;
esac
