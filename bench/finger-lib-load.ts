// The load generator for `npm run bench -- finger`, run as its own process
// pinned to the other core: `node finger-lib-load.js PORT CONCURRENCY MS QUERY`.
// One connection per query, as finger clients do; prints one JSON line.
import { connect } from 'node:net';

const [portArg = '79', concArg = '1', msArg = '2000', query = 'alice\r\n', warmArg = '300'] = process.argv.slice(2);
const port = Number(portArg);
const concurrency = Number(concArg);
const measureMs = Number(msArg);
const warmupMs = Number(warmArg);

const latencies: number[] = [];
let completed = 0;
let errors = 0;
let bytes = 0;
const start = performance.now();
const measureFrom = start + warmupMs;
const stopAt = measureFrom + measureMs;

function one(): Promise<void> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let got = 0;
    let failed = false;
    const s = connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.write(query);
    });
    s.on('data', (c: Buffer) => {
      got += c.length;
    });
    s.on('error', () => {
      failed = true;
    });
    s.on('close', () => {
      const t1 = performance.now();
      // Count what completes inside the window, whenever it started: a slow
      // server's first wave would otherwise never be counted.
      if (t1 >= measureFrom && t1 <= stopAt) {
        if (failed || got === 0) errors++;
        else {
          completed++;
          bytes += got;
          latencies.push(t1 - t0);
        }
      }
      resolve();
    });
  });
}

async function worker(): Promise<void> {
  while (performance.now() < stopAt) await one();
}

await Promise.all(Array.from({ length: concurrency }, () => worker()));
latencies.sort((a, b) => a - b);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({ cps: (completed / measureMs) * 1000, p50: pct(50), p99: pct(99), completed, errors, bytesPerReply: completed === 0 ? 0 : bytes / completed })}\n`,
);
