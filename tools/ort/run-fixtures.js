#!/usr/bin/env node
// Runs ONNX Runtime (CPU) over conformance fixture cases and writes its outputs as the expected results.
//
// Usage: node run-fixtures.js FOLDER [--filter SUBSTRING] [--opt disabled|basic|extended|all] [--threads N]
//
// FOLDER holds one sub-folder per case (or is a case folder itself). A case folder holds:
//   model.onnx   the model
//   case.json    { "inputs": [ { "name", "type", "shape", "file" } ... ], ... } written by tools/OnnxConformance
//   <file>       each input as raw little-endian values, row-major
// This script adds:
//   expected.json  { "runtime": "onnxruntime-node x.y.z", "optimization": "...",
//                    "outputs": [ { "name", "type", "shape", "file" } ... ] }
//   <file>         each output as raw little-endian values (expected.N.bin)
// Exit code: 0 when every case ran, 1 when any failed (each failure is printed with its case name).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const ort = require('onnxruntime-node');

// ONNX Runtime's tensor type names -> typed array constructors (all little-endian on the hosts we support).
const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  float16: Uint16Array,
};

function parseArgs(argv) {
  const args = { folder: null, filter: null, opt: 'disabled', threads: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--filter') args.filter = argv[++i];
    else if (a === '--opt') args.opt = argv[++i];
    else if (a === '--threads') args.threads = Number(argv[++i]);
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else args.folder = a;
  }
  if (!args.folder) throw new Error('usage: node run-fixtures.js FOLDER [--filter S] [--opt disabled|basic|extended|all] [--threads N]');
  return args;
}

function readTensor(dir, info) {
  const Ctor = ARRAYS[info.type];
  if (!Ctor) throw new Error(`input ${info.name}: unsupported type ${info.type}`);
  const bytes = fs.readFileSync(path.join(dir, info.file));
  const count = info.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * Ctor.BYTES_PER_ELEMENT) {
    throw new Error(`input ${info.name}: ${info.file} has ${bytes.length} bytes, expected ${count * Ctor.BYTES_PER_ELEMENT}`);
  }
  // Copy into an aligned buffer: Buffer slices may not be aligned for the typed array.
  const aligned = new ArrayBuffer(bytes.length);
  new Uint8Array(aligned).set(bytes);
  let data = new Ctor(aligned);
  if (info.type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return new ort.Tensor(info.type, data, info.shape);
}

function tensorBytes(t) {
  const d = t.data;
  if (t.type === 'bool') return Buffer.from(Uint8Array.from(d, (v) => (v ? 1 : 0)));
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

async function runCase(dir, args) {
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: args.opt,
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  const feeds = {};
  for (const info of spec.inputs) feeds[info.name] = readTensor(dir, info);
  const results = await session.run(feeds);
  const outputs = [];
  session.outputNames.forEach((name, i) => {
    const t = results[name];
    const file = `expected.${i}.bin`;
    fs.writeFileSync(path.join(dir, file), tensorBytes(t));
    outputs.push({ name, type: t.type, shape: t.dims.map(Number), file });
  });
  const expected = {
    runtime: `onnxruntime-node ${ort.env.versions.node}`,
    optimization: args.opt,
    outputs,
  };
  fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(expected, null, 2) + '\n');
  if (session.release) await session.release();
  return outputs;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const root = path.resolve(args.folder);
  const dirs = fs.existsSync(path.join(root, 'case.json'))
    ? [root]
    : fs.readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'case.json')))
        .map((e) => path.join(root, e.name))
        .sort();
  let ok = 0;
  const failed = [];
  for (const dir of dirs) {
    const name = path.basename(dir);
    if (args.filter && !name.includes(args.filter)) continue;
    try {
      await runCase(dir, args);
      ok++;
    } catch (e) {
      failed.push(name);
      console.error(`FAIL ${name}: ${String(e && e.message ? e.message : e).split('\n')[0]}`);
    }
  }
  console.log(`${ok} cases written, ${failed.length} failed (onnxruntime-node ${ort.env.versions.node})`);
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exitCode = 1;
});
