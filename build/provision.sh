#!/usr/bin/env bash
# Provisions the Debian packages OnnxCnn needs (ONNX Runtime comes from NuGet); run by the build
# when a file is missing, idempotent.
#   build/provision.sh apt PKG FILE   a Debian package, checked by one file it installs
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
native="$repo/.native"

fail() { echo "error: $*" >&2; exit 1; }

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
  apt) [ $# -eq 3 ] || fail "usage: provision.sh apt PACKAGE FILE"; provision_apt "$2" "$3" ;;
  *) fail "usage: provision.sh apt PACKAGE FILE" ;;
esac
