#!/usr/bin/env node
// A developer's tool, not a test: compile time of two builds of the bpf
// compiler, interleaved in one process, so that load on the machine falls
// on both alike (bench/bpf.ts times one build against libpcap; this says
// what a change did to that figure).
//
// Usage: node scripts/bpf-compile-ab.mjs OLD NEW [bench|random] [passes] [reps]
//   OLD, NEW: checkouts with a build in dist/ (git worktree add ../old <commit>;
//   cd ../old && ln -s ../moat/node_modules . && npx tsc -p .).
//   bench: the benchmark's 47 expressions on Ethernet; random: every sixth
//   of the size measure's 2,400 random expressions of seed 14, many link types.
// Each pass compiles every expression `reps` times with one build, then with
// the other, the order flipping per expression and pass; the first 8 passes
// warm up. It prints NEW/OLD: the median of the per-expression medians (what
// reproduces) and the ratio of the total times (what the benchmark's mean
// sees, and what garbage collection and other load move most). Below 1 is faster.
//
// On a shared machine, give it a core of its own and V8 no helper threads
// (a real-time task on one core would starve them):
//   taskset -c 1 chrt -f 10 node --single-threaded scripts/bpf-compile-ab.mjs …
// A/A (one build twice) shows the noise: medians within ±1%.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [oldDir, newDir, set = 'bench', passesArg = '30', repsArg = '40'] = process.argv.slice(2);
if (oldDir === undefined || newDir === undefined || (set !== 'bench' && set !== 'random')) {
  process.stderr.write('usage: bpf-compile-ab.mjs OLD NEW [bench|random] [passes] [reps]\n');
  process.exit(64);
}
const load = (dir, path) => import(pathToFileURL(resolve(dir, 'dist', path)).href);
const oldC = await load(oldDir, 'src/bpf/compiler/index.js');
const newC = await load(newDir, 'src/bpf/compiler/index.js');
// The expressions as the newer build's tests have them.
const ex = await load(newDir, 'test/bpf/oracle/expressions.js');
const { randomExpressions } = await load(newDir, 'test/bpf/oracle/random-expressions.js');
const cases = set === 'bench'
  ? [...ex.GENERIC, ...ex.ETHER, ...ex.BENCH_FILTERS].map((expr) => ({ expr, linktype: 1 }))
  : randomExpressions(14, 2400).filter((_, i) => i % 6 === 0).map((r) => ({ expr: r.expr, linktype: r.dlt }));
const passes = Number(passesArg);
const reps = Number(repsArg);
const WARM = 8;

/** Nanoseconds for `reps` compiles of one case (a refused expression is timed too). */
function time(compiler, c) {
  const opts = { linktype: c.linktype, optimize: true };
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) {
    try {
      compiler.compileFilter(c.expr, opts);
    } catch {
      // Refused alike by both, or the newer one learned it: timed all the same.
    }
  }
  return Number(process.hrtime.bigint() - t0);
}

const ratios = cases.map(() => []);
let totalOld = 0;
let totalNew = 0;
for (let p = 0; p < WARM + passes; p++) {
  cases.forEach((c, i) => {
    let o;
    let n;
    if ((p + i) % 2 === 0) {
      o = time(oldC, c);
      n = time(newC, c);
    } else {
      n = time(newC, c);
      o = time(oldC, c);
    }
    if (p < WARM) return;
    ratios[i]?.push(n / o);
    totalOld += o;
    totalNew += n;
  });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
};
const perCase = ratios.map(median);
const sorted = [...perCase].sort((a, b) => a - b);
const at = (f) => sorted[Math.round(f * (sorted.length - 1))] ?? NaN;
process.stdout.write(
  `${set}: ${String(cases.length)} expressions, ${String(passes)} passes x ${String(reps)}: ` +
  `NEW/OLD per-expression median ${median(perCase).toFixed(3)} (p20 ${at(0.2).toFixed(3)}, p80 ${at(0.8).toFixed(3)}), ` +
  `total ${(totalNew / totalOld).toFixed(3)}\n`,
);
