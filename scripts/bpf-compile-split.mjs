#!/usr/bin/env node
// A developer's tool, not a test: where a compile's time goes, code
// generation or the optimizer, for one or more builds of the bpf compiler
// side by side in one process (scripts/bpf-compile-ab.mjs says what a change
// did to the whole compile; this says which half it was).
//
// Usage: node scripts/bpf-compile-split.mjs DIR... [--passes N] [--reps N]
//   DIR: a checkout with a build in dist/ (see bpf-compile-ab.mjs), from
//   c1ad495 on (parser.js, codegen.js, optimize.js and opt-blocks.js there).
// The benchmark's 47 expressions on Ethernet, each parsed once per build;
// then, per pass, per expression and build in turn (the order rotating):
// `reps` times, generate the graph (timed: "generate"), then order it,
// optimize it and lay it out (timed: "optimize"; the optimizer works on the
// graph in place, so each needs a fresh one). The first 8 passes warm up.
// Parsing is left out: it is the same work before and after the optimizer.
// Compare builds within one run: with several builds' code in one process
// every figure is higher than in a process of its own (V8 tiers up more
// code), and short runs (under ~100 passes) are higher still.
// On a shared machine, run it as bpf-compile-ab.mjs says (taskset, chrt).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const dirs = [];
let passes = 150;
let reps = 20;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--passes' || a === '--reps') {
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v <= 0) {
      process.stderr.write(`bpf-compile-split: ${a} wants a positive integer\n`);
      process.exit(64);
    }
    if (a === '--passes') passes = v;
    else reps = v;
  } else dirs.push(a);
}
if (dirs.length === 0) {
  process.stderr.write('usage: bpf-compile-split.mjs DIR... [--passes N] [--reps N]\n');
  process.exit(64);
}

const load = (dir, path) => import(pathToFileURL(resolve(dir, 'dist', path)).href);
const builds = [];
for (const dir of dirs) {
  builds.push({
    dir,
    parser: await load(dir, 'src/bpf/compiler/parser.js'),
    codegen: await load(dir, 'src/bpf/compiler/codegen.js'),
    optimize: await load(dir, 'src/bpf/compiler/optimize.js'),
    blocks: await load(dir, 'src/bpf/compiler/opt-blocks.js'),
    index: await load(dir, 'src/bpf/compiler/index.js'),
    gen: 0n,
    opt: 0n,
    count: 0,
  });
}
// The expressions as the last build's tests have them; those every build compiles.
const ex = await load(dirs[dirs.length - 1], 'test/bpf/oracle/expressions.js');
const all = [...ex.GENERIC, ...ex.ETHER, ...ex.BENCH_FILTERS];
const compiles = (b, e) => {
  try {
    b.index.compileFilter(e, { linktype: 1, optimize: true });
    return true;
  } catch {
    return false;
  }
};
const exprs = all.filter((e) => builds.every((b) => compiles(b, e)));
for (const b of builds) {
  b.parsed = exprs.map((e) => b.parser.parseFilter(e).node);
  // Name lookups answered from one table, as compileFilter's default does.
  b.opts = { linktype: 1, snaplen: 262144, netmask: 0xffffffff, names: new b.index.FileNameDb(), littleEndianHost: true, savefile: undefined };
}

const WARM = 8;
const now = process.hrtime.bigint;
for (let p = 0; p < WARM + passes; p++) {
  exprs.forEach((e, i) => {
    for (let j = 0; j < builds.length; j++) {
      const b = builds[(p + i + j) % builds.length];
      let gen = 0n;
      let opt = 0n;
      for (let r = 0; r < reps; r++) {
        const t0 = now();
        const g = b.codegen.generate(e, b.parsed[i], b.opts);
        const t1 = now();
        b.optimize.optimizeGraphAgainst(g.root, Number.MAX_SAFE_INTEGER, b.blocks.order(g.root));
        opt += now() - t1;
        gen += t1 - t0;
      }
      if (p < WARM) continue;
      b.gen += gen;
      b.opt += opt;
      b.count += reps;
    }
  });
}
const us = (ns, n) => (Number(ns) / n / 1000).toFixed(2);
process.stdout.write(`${String(exprs.length)} expressions, ${String(passes)} passes x ${String(reps)}; µs per compile\n`);
for (const b of builds) process.stdout.write(`${b.dir}: generate ${us(b.gen, b.count)}, optimize ${us(b.opt, b.count)}\n`);
