#!/usr/bin/env node
// Summarises compare.sh's runs (JSON lines): per case, the median over rounds of each run's median ms per batch,
// for ONNX Runtime and for our engine, and the ratio ours / ORT (above 1 = we are slower).
'use strict';
const fs = require('node:fs');
const [file, threads, rounds, warmup, iterations, maxTime] = process.argv.slice(2);
const runs = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const keys = [...new Set(runs.map((r) => `${r.case}|${r.batch}`))];
const rows = [];
for (const key of keys) {
  const [name, batch] = key.split('|');
  const cell = (engine) => {
    const rs = runs.filter((r) => `${r.case}|${r.batch}` === key && r.engine === engine);
    const ok = rs.filter((r) => r.error === undefined);
    if (ok.length === 0) return { error: rs.length ? rs[0].error : 'not run' };
    return { ms: median(ok.map((r) => r.median_ms)), runs: ok.length, timed: ok.reduce((n, r) => n + r.iterations, 0), runtime: ok[0].runtime };
  };
  rows.push({ name, batch: +batch, ort: cell('ort'), ours: cell('ours') });
}
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
console.log(`threads ${threads}, ${rounds} alternating rounds, each run up to ${warmup} warm-up + ${iterations} timed (at most ${maxTime} s each); ms = median over rounds of each run's median per batch`);
console.log('');
console.log('| case | batch | ORT ms/batch | ours ms/batch | ORT ms/image | ours ms/image | ORT img/s | ours img/s | ours / ORT | timed runs ORT/ours |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const o = r.ort.ms, u = r.ours.ms, b = r.batch;
  const ours = r.ours.error ? `failed: ${r.ours.error.replace(/\|/g, '/')}` : f(u);
  const ort = r.ort.error ? `failed: ${r.ort.error.replace(/\|/g, '/')}` : f(o);
  console.log(`| ${r.name} | ${b} | ${ort} | ${ours} | ${f(o / b, 3)} | ${f(u / b, 3)} | ${f((b * 1000) / o, 1)} | ${f((b * 1000) / u, 1)} | ${f(u / o, 2)} | ${r.ort.timed ?? 0}/${r.ours.timed ?? 0} |`);
}
