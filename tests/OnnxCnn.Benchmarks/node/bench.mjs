#!/usr/bin/env node
// Benchmark ONNX Runtime's Node.js binding (onnxruntime-node) on one model.
//
// Usage: node bench.mjs MODEL [--batch N] [--iterations K] [--warmup W]
//                             [--input-size HxW] [--threads T]
//
// Feeds one seeded random float32 tensor of shape N x C x H x W to the model's
// first input (C, H, W from the model's input metadata when they are fixed
// numbers, else 3 x 224 x 224; --input-size overrides H x W), runs W warmup
// runs, then K timed runs (each awaited), and prints ONE JSON line on stdout:
//   {"runtime":"onnxruntime-node","version":"1.30.0","batch":N,"iterations":K,
//    "imagesPerSecond":...,"latencyMs":{"p50":...,"p90":...}}
// imagesPerSecond = N*K / (wall-clock seconds of the K timed runs).
// Diagnostics go to stderr.

import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';

function usage(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error('usage: node bench.mjs MODEL [--batch N] [--iterations K] [--warmup W] [--input-size HxW] [--threads T]');
  process.exit(2);
}

function posInt(name, value, dflt, allowZero = false) {
  if (value === undefined) return dflt;
  if (!/^\d+$/.test(value)) usage(`--${name} must be an integer, got '${value}'`);
  const n = Number(value);
  if (n < (allowZero ? 0 : 1)) usage(`--${name} must be ${allowZero ? '>= 0' : '>= 1'}`);
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      batch: { type: 'string' },
      iterations: { type: 'string' },
      warmup: { type: 'string' },
      'input-size': { type: 'string' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (e) {
  usage(e.message);
}
const { values: opts, positionals } = parsed;
if (opts.help) usage();
if (positionals.length !== 1) usage('exactly one MODEL path is required');
const modelPath = positionals[0];
if (!existsSync(modelPath)) usage(`model not found: ${modelPath}`);

const batch = posInt('batch', opts.batch, 1);
const iterations = posInt('iterations', opts.iterations, 100);
const warmup = posInt('warmup', opts.warmup, 10, true);
const threads = posInt('threads', opts.threads, undefined);
let sizeOverride;
if (opts['input-size'] !== undefined) {
  const m = /^(\d+)(?:[xX](\d+))?$/.exec(opts['input-size']);
  if (!m) usage(`--input-size must look like HxW (e.g. 224x224), got '${opts['input-size']}'`);
  sizeOverride = [Number(m[1]), Number(m[2] ?? m[1])];
  if (sizeOverride[0] < 1 || sizeOverride[1] < 1) usage('--input-size dimensions must be >= 1');
}

const sessionOptions = { graphOptimizationLevel: 'all' };
if (threads !== undefined) sessionOptions.intraOpNumThreads = threads;
const session = await ort.InferenceSession.create(modelPath, sessionOptions);

const inputName = session.inputNames[0];
if (session.inputNames.length !== 1) {
  console.error(`warning: model has ${session.inputNames.length} inputs; feeding only '${inputName}'`);
}
// Metadata shape entries are numbers for fixed dims and strings for symbolic ones.
const meta = session.inputMetadata?.[0];
const mshape = meta && meta.isTensor && Array.isArray(meta.shape) ? meta.shape : [];
if (meta && meta.isTensor && meta.type && meta.type !== 'float32') {
  console.error(`warning: input '${inputName}' has type ${meta.type}; feeding float32 anyway`);
}
const fixed = (i, dflt) => (mshape.length === 4 && typeof mshape[i] === 'number' && mshape[i] > 0 ? mshape[i] : dflt);
const channels = fixed(1, 3);
const [height, width] = sizeOverride ?? [fixed(2, 224), fixed(3, 224)];
const dims = [batch, channels, height, width];
if (sizeOverride && (fixed(2, height) !== height || fixed(3, width) !== width)) {
  console.error(`warning: --input-size ${height}x${width} differs from the model's fixed ${mshape[2]}x${mshape[3]}; ORT will likely reject it`);
}

// Seeded (mulberry32) uniform values in [-1, 1): same input on every run.
let seed = 0x5eed1234;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const data = new Float32Array(batch * channels * height * width);
for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
const feeds = { [inputName]: new ort.Tensor('float32', data, dims) };

console.error(`model=${modelPath} input=${inputName}[${dims.join('x')}] ` +
  `warmup=${warmup} iterations=${iterations} threads=${threads ?? 'default'}`);

for (let i = 0; i < warmup; i++) await session.run(feeds);

const lat = new Float64Array(iterations);
const t0 = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) {
  const s = process.hrtime.bigint();
  await session.run(feeds);
  lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
}
const totalSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
await session.release();

// Percentile with linear interpolation between closest ranks.
const sorted = Array.from(lat).sort((a, b) => a - b);
function percentile(p) {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

console.log(JSON.stringify({
  runtime: 'onnxruntime-node',
  version: ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown',
  batch,
  iterations,
  imagesPerSecond: round((batch * iterations) / totalSeconds),
  latencyMs: { p50: round(percentile(0.5)), p90: round(percentile(0.9)) },
}));
