#!/usr/bin/env node
// Times ONNX Runtime (CPU, onnxruntime-node from tools/ort) on random inputs, like `defect onnx bench --json`.
//
// Usage: node ort-bench.js --model M [--batch B] [--threads T] [--warmup W] [--iterations N] [--shape 3x224x224]
//                         [--max-time SECONDS]   (stop warm-up and timed runs after that long, at least one run each)
// Prints one JSON object: { runtime, model, batch, threads, warmup, iterations, session_ms, median_ms, min_ms,
//                           mean_ms, ms_per_image, images_per_second }
'use strict';

const path = require('node:path');
const ort = require(path.join(__dirname, '..', '..', 'tools', 'ort', 'node_modules', 'onnxruntime-node'));

function parseArgs(argv) {
  const a = { model: null, batch: 1, threads: 2, warmup: 3, iterations: 20, shape: null, maxTime: Infinity };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--model') a.model = v;
    else if (k === '--batch') a.batch = Number(v);
    else if (k === '--threads') a.threads = Number(v);
    else if (k === '--warmup') a.warmup = Number(v);
    else if (k === '--iterations') a.iterations = Number(v);
    else if (k === '--shape') a.shape = v.split(/[x,]/).map(Number);
    else if (k === '--max-time') a.maxTime = Number(v);
    else throw new Error(`unknown option ${k}`);
    i++;
  }
  if (!a.model) throw new Error('--model is required');
  return a;
}

// Deterministic uniform [0, 1) values (xorshift32), so both engines see the same kind of data.
function randomFloats(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s >>> 8) / 16777216;
  }
  return out;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  let t0 = performance.now();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
  });
  const sessionMs = performance.now() - t0;
  const feeds = {};
  let seed = 1;
  for (const name of session.inputNames) {
    const meta = session.inputMetadata.find((m) => m.name === name);
    const dims = meta.shape.map((d, i) => {
      if (i === 0) return a.batch;
      if (typeof d === 'number' && d > 0) return d;
      if (a.shape) return a.shape[i - 1];
      throw new Error(`input ${name} has a dynamic dimension ${i}; pass --shape`);
    });
    if (meta.type !== 'float32') throw new Error(`input ${name} is ${meta.type}; only float32 inputs are generated`);
    const n = dims.reduce((x, y) => x * y, 1);
    feeds[name] = new ort.Tensor('float32', randomFloats(n, seed++), dims);
  }
  const warmStart = performance.now();
  for (let i = 0; i < a.warmup; i++) {
    await session.run(feeds);
    if (performance.now() - warmStart >= a.maxTime * 1000) break;
  }
  const times = [];
  const begin = performance.now();
  while (times.length < a.iterations && (times.length === 0 || performance.now() - begin < a.maxTime * 1000)) {
    t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  const m = times.length;
  const median = m % 2 ? times[(m - 1) / 2] : (times[m / 2 - 1] + times[m / 2]) / 2;
  const mean = times.reduce((x, y) => x + y, 0) / m;
  console.log(JSON.stringify({
    runtime: `onnxruntime-node ${ort.env.versions.node}`,
    model: path.resolve(a.model),
    batch: a.batch,
    threads: a.threads,
    warmup: a.warmup,
    iterations: times.length,
    session_ms: +sessionMs.toFixed(3),
    median_ms: +median.toFixed(4),
    min_ms: +times[0].toFixed(4),
    mean_ms: +mean.toFixed(4),
    ms_per_image: +(median / a.batch).toFixed(4),
    images_per_second: +((a.batch * 1000) / median).toFixed(2),
  }, null, 2));
}

main().catch((e) => {
  console.error(`error: ${e && e.message ? e.message : e}`);
  process.exitCode = 2;
});
