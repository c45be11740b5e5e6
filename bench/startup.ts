// `npm run bench -- startup`: how long `moat --version` takes to start and
// exit, against a bare `node -e 0`, the floor Node itself sets.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark, Figures } from './harness.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'moat.js');

function timed(args: string[], n = 10): Figures {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${String(r.status)}`);
  }
  return { 'ms/start': Number(process.hrtime.bigint() - t0) / 1e6 / n };
}

export default function startup(): Benchmark {
  return {
    name: 'startup',
    description: 'process start to exit, ms per run (lower is better)',
    rounds: 5,
    subjects: [
      { name: 'moat --version', run: () => Promise.resolve(timed([bin, '--version'])) },
      { name: 'node -e 0', run: () => Promise.resolve(timed(['-e', '0'])) },
    ],
  };
}
