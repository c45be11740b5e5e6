#!/usr/bin/env node
// A developer's tool, not a test: the bpf optimizer against the rule it
// must keep, on many random expressions at once. For each expression, our
// `-O` program and our unoptimized one are run on the packets the size
// measure's disagreement search makes (test/bpf/oracle/sizes.ts: random
// packets of the link type and packets that follow paths through either
// program, at every truncation and several wire lengths); any packet on
// which the two differ is printed. The test suite checks a few thousand
// packets per shape; this is for a change to the optimizer, before merging.
//
// Usage: node scripts/bpf-soundness-sweep.mjs [seeds] [count] [tries]
//   seeds: comma-separated random-expression seeds (default 101,202);
//   count: expressions per seed (default 2000); tries: packets drawn per
//   expression before truncations (default 240). Run `npm run build` first.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { compileFilter } = await load('src/bpf/compiler/index.js');
const { disagreement } = await load('test/bpf/oracle/sizes.js');
const { randomExpressions } = await load('test/bpf/oracle/random-expressions.js');

const [seedsArg = '101,202', countArg = '2000', triesArg = '240'] = process.argv.slice(2);
const seeds = seedsArg.split(',').map(Number);
const count = Number(countArg);
const tries = Number(triesArg);
if (seeds.some((s) => !Number.isInteger(s)) || !Number.isInteger(count) || !Number.isInteger(tries)) {
  process.stderr.write('usage: bpf-soundness-sweep.mjs [seeds] [count] [tries]\n');
  process.exit(64);
}

let seen = 0;
let compiled = 0;
let bad = 0;
const started = Date.now();
for (const seed of seeds) {
  for (const r of randomExpressions(seed, count)) {
    seen++;
    let optimized;
    let plain;
    try {
      optimized = compileFilter(r.expr, { linktype: r.dlt, optimize: true, resolveNames: false });
      plain = compileFilter(r.expr, { linktype: r.dlt, optimize: false, resolveNames: false });
    } catch {
      continue; // refused (as libpcap refuses it): nothing to run
    }
    compiled++;
    const d = disagreement(optimized, plain, r.dlt, seed * 100000 + seen, tries);
    if (d === undefined) continue;
    bad++;
    process.stdout.write(`DISAGREE seed ${String(seed)} dlt ${String(r.dlt)} wirelen ${String(d.wirelen)} packet ${Buffer.from(d.packet).toString('hex')}: ${r.expr}\n`);
  }
}
process.stdout.write(
  `${String(seen)} expressions (seeds ${seedsArg}), ${String(compiled)} compiled, ${String(tries)} tries each: ` +
  `${String(bad)} disagreements, ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
);
process.exitCode = bad === 0 ? 0 : 1;
