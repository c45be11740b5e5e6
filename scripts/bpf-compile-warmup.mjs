#!/usr/bin/env node
// A developer's tool, not a test: how a warm compile time settles in one
// process, pass by pass, for one or more builds of the bpf compiler (each in
// a process of its own, one after another). It is what the benchmark's
// warm-up count (bench/bpf.ts COMPILE_WARMUP_PASSES) was chosen from.
//
// Usage: node scripts/bpf-compile-warmup.mjs DIR... [--passes N]
//   DIR: a checkout with a build in dist/ (see bpf-compile-ab.mjs).
// A pass compiles each of the benchmark's 47 expressions (those the build
// compiles) 50 times, as the benchmark's compilePass() does; printed is µs
// per compile for every pass. On a shared machine, pin it as
// bpf-compile-ab.mjs says (taskset, chrt).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
if (args[0] === '--child') {
  const [, dir, passesText] = args;
  const load = (path) => import(pathToFileURL(resolve(dir, 'dist', path)).href);
  const { compileFilter } = await load('src/bpf/compiler/index.js');
  const ex = await load('test/bpf/oracle/expressions.js');
  const exprs = [...ex.GENERIC, ...ex.ETHER, ...ex.BENCH_FILTERS];
  const times = [];
  for (let p = 0; p < Number(passesText); p++) {
    const t0 = process.hrtime.bigint();
    let n = 0;
    for (const e of exprs) {
      for (let r = 0; r < 50; r++) {
        try {
          compileFilter(e, { linktype: 1, optimize: true });
        } catch {
          break;
        }
        n++;
      }
    }
    times.push((Number(process.hrtime.bigint() - t0) / 1e3 / n).toFixed(1));
  }
  process.stdout.write(`${times.join(' ')}\n`);
  process.exit(0);
}

const dirs = [];
let passes = 80;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--passes') {
    passes = Number(args[++i]);
    if (!Number.isInteger(passes) || passes <= 0) {
      process.stderr.write('bpf-compile-warmup: --passes wants a positive integer\n');
      process.exit(64);
    }
  } else dirs.push(args[i]);
}
if (dirs.length === 0) {
  process.stderr.write('usage: bpf-compile-warmup.mjs DIR... [--passes N]\n');
  process.exit(64);
}
for (const dir of dirs) {
  // A fresh process per build: the curve is V8 warming up one build's code.
  const r = spawnSync(process.execPath, [process.argv[1], '--child', dir, String(passes)], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`bpf-compile-warmup: ${dir}: ${r.stderr}`);
    process.exit(1);
  }
  process.stdout.write(`${dir}: ${r.stdout}`);
}
