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
const bench = await mod.default(args);
if (rounds !== undefined) bench.rounds = rounds;
await runBenchmark(bench);
