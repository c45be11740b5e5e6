// `npm run bench -- <name>`: load bench/<name>.ts (built to dist/bench) and run it.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBenchmark, type Benchmark } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !['run.js', 'harness.js'].includes(f) && !f.includes('-lib'))
  .map((f) => f.slice(0, -3))
  .sort();

const name = process.argv[2];
if (name === undefined || !/^[a-z0-9-]+$/.test(name) || !existsSync(join(here, `${name}.js`))) {
  process.stderr.write(`usage: npm run bench -- <name>\navailable: ${available.join(' ')}\n`);
  process.exit(64);
}
const mod = (await import(join(here, `${name}.js`))) as { default: (argv: string[]) => Promise<Benchmark> | Benchmark };
const args = process.argv.slice(3);
// `--rounds N` works for every benchmark (finger reads it too, for the same
// meaning); checked before the benchmark prepares anything.
const at = args.indexOf('--rounds');
const rounds = at >= 0 ? Number(args[at + 1]) : undefined;
if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) {
  process.stderr.write('bench: --rounds wants a positive whole number\n');
  process.exit(64);
}
// `--subjects A,B` runs only the named subjects (the first named is the one
// the others are compared with): a longer run of one pair, e.g. moat finger
// against moat finger --chroot, in the time the whole set would take.
const sat = args.indexOf('--subjects');
const only = sat >= 0 ? (args[sat + 1] ?? '').split(',').filter((n) => n !== '') : undefined;
if (only?.length === 0) {
  process.stderr.write('bench: --subjects wants a comma-separated list of subject names\n');
  process.exit(64);
}
const bench = await mod.default(args);
if (rounds !== undefined) bench.rounds = rounds;
if (only !== undefined) {
  const names = bench.subjects.map((s) => s.name);
  const unknown = only.filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    await bench.cleanup?.();
    process.stderr.write(`bench ${bench.name}: no subject ${unknown.map((n) => `'${n}'`).join(', ')}; subjects: ${names.join(', ')}\n`);
    process.exit(64);
  }
  bench.subjects = only.map((n) => bench.subjects.find((s) => s.name === n)).filter((s) => s !== undefined);
}
await runBenchmark(bench);
