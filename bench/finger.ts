// `npm run bench -- finger`: connections per second and p50/p99 latency at
// concurrency 1, 50 and 500, one connection per query, on loopback; plus RSS
// with 1,000 idle connections. The server runs pinned to core 0, the load
// generator to core 1 (taskset). Compared in the same run with a bare Node
// net server writing a fixed reply (Node's ceiling) and with Debian's
// in.fingerd under openbsd-inetd. With the native addon, moat finger
// --chroot (the same daemon confined to the bench's directory, as root like
// the unconfined one, so only the confinement differs) runs beside it.
// Options: --duration-ms N (per level, default 2000), --rounds N (default 3).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../src/core/index.js';
import type { Benchmark, Figures, Subject } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const moatBin = join(here, '..', 'bin', 'moat.js');
const loadJs = join(here, 'finger-lib-load.js');
const bareJs = join(here, 'finger-lib-bare.js');
const LEVELS = [1, 50, 500];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${String(child.exitCode)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} never listened on ${String(port)}`);
}

/** Run the pinned load generator once. */
function load(port: number, concurrency: number, ms: number, query: string): { cps: number; p50: number; p99: number; errors: number } {
  const r = spawnSync('taskset', ['-c', '1', process.execPath, loadJs, String(port), String(concurrency), String(ms), query], { encoding: 'utf8', timeout: ms + 60000 });
  if (r.status !== 0) throw new Error(`load generator failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { cps: number; p50: number; p99: number; errors: number };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

/** RSS of `pid` while 1,000 connections sit idle on it. */
async function idleRss(port: number, pid: number): Promise<number> {
  const socks: Socket[] = [];
  for (let batch = 0; batch < 4; batch++) {
    await Promise.all(
      Array.from({ length: 250 }, () => new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port });
        socks.push(s);
        s.on('error', () => undefined);
        s.once('connect', () => {
          resolve();
        });
        s.once('close', () => {
          resolve();
        });
      })),
    );
  }
  await sleep(500);
  const rss = rssMb(pid);
  for (const s of socks) s.destroy();
  await sleep(300);
  return rss;
}

function measure(port: number, ms: number, query: string): Figures {
  const f: Figures = {};
  for (const c of LEVELS) {
    const r = load(port, c, ms, query);
    f[`c${String(c)} conn/s`] = r.cps;
    f[`c${String(c)} p50 ms`] = r.p50;
    f[`c${String(c)} p99 ms`] = r.p99;
    f[`c${String(c)} errors`] = r.errors;
  }
  return f;
}

/**
 * A server started pinned to core 0, measured by load(). With `rss`, each run
 * also starts a fresh instance, holds 1,000 idle connections on it and reads
 * its RSS, and reads the RSS of the loaded instance (its heap has grown).
 */
function serverSubject(name: string, start: (port: number) => ChildProcess, ms: number, query: string, rss: boolean): Subject {
  let child: ChildProcess | undefined;
  let port = 0;
  return {
    name,
    async setup() {
      port = await freePort();
      child = start(port);
      await waitForPort(port, child, name);
    },
    async run() {
      const f = measure(port, ms, query);
      if (rss && child?.pid !== undefined) {
        f['RSS MB after load'] = rssMb(child.pid);
        const freshPort = await freePort();
        const fresh = start(freshPort);
        try {
          await waitForPort(freshPort, fresh, name);
          if (fresh.pid !== undefined) f['RSS MB @1000 idle'] = await idleRss(freshPort, fresh.pid);
        } finally {
          await stop(fresh);
        }
      }
      return f;
    },
    async teardown() {
      if (child !== undefined) await stop(child);
    },
  };
}

async function stop(c: ChildProcess): Promise<void> {
  const alive = (): boolean => c.exitCode === null && c.signalCode === null;
  if (!alive()) return;
  c.kill('SIGTERM');
  await Promise.race([new Promise((r) => c.once('exit', r)), sleep(3000)]);
  if (alive()) c.kill('SIGKILL');
}

export default function finger(argv: string[]): Benchmark {
  const opt = (name: string, fallback: number): number => {
    const i = argv.indexOf(`--${name}`);
    return i === -1 ? fallback : Number(argv[i + 1]);
  };
  const ms = opt('duration-ms', 2000);
  const rounds = opt('rounds', 3);
  const work = mkdtempSync(join(tmpdir(), 'moat-bench-finger-'));
  // Readable by all: it is also the --chroot subject's DIR.
  chmodSync(work, 0o755);
  const homes = join(work, 'homes');
  mkdirSync(join(homes, 'alice'), { recursive: true });
  writeFileSync(join(homes, 'alice', '.plan'), 'Build the moat first.\nThen the castle; and keep the drawbridge up after dark.\n');
  // The bare server writes the same bytes moat answers for alice.
  const reply = join(work, 'reply.txt');
  writeFileSync(reply, 'Login: alice\r\nPlan:\r\nBuild the moat first.\r\nThen the castle; and keep the drawbridge up after dark.\r\n');
  const inetdConf = join(work, 'inetd.conf');
  const generous = ['--max-connections', '100000', '--max-per-ip', '100000', '--rate', '1000000', '--burst', '1000000'];
  const subjects: Subject[] = [
    serverSubject(
      'moat finger',
      (port) => spawn('taskset', ['-c', '0', process.execPath, moatBin, 'finger', '--listen', `127.0.0.1:${String(port)}`, '--homes', homes, '--allow-root', ...generous], { stdio: 'ignore' }),
      ms,
      'alice\r\n',
      true,
    ),
    ...(loadNative() === undefined
      ? []
      : [
          serverSubject(
            'moat finger --chroot',
            (port) => spawn('taskset', ['-c', '0', process.execPath, moatBin, 'finger', '--chroot', work, '--listen', `127.0.0.1:${String(port)}`, '--homes', '/homes', '--allow-root', ...generous], { stdio: 'ignore' }),
            ms,
            'alice\r\n',
            true,
          ),
        ]),
    serverSubject('bare node net', (port) => spawn('taskset', ['-c', '0', process.execPath, bareJs, String(port), reply], { stdio: 'ignore' }), ms, 'alice\r\n', true),
    serverSubject(
      'in.fingerd (inetd)',
      // -d keeps inetd in the foreground; nowait.N lifts its 256/minute
      // respawn limit, -q its listen queue. in.fingerd runs finger(1) for a
      // passwd user: nobody, who has no .plan.
      (port) => {
        writeFileSync(inetdConf, `127.0.0.1:${String(port)} stream tcp nowait.10000000 nobody /usr/sbin/in.fingerd in.fingerd\n`);
        return spawn('taskset', ['-c', '0', '/usr/sbin/inetd', '-d', '-q', '1024', inetdConf], { stdio: 'ignore' });
      },
      ms,
      'nobody\r\n',
      false,
    ),
  ];
  const last = subjects[subjects.length - 1];
  if (last !== undefined) {
    const down = last.teardown;
    last.teardown = async () => {
      await down?.();
      rmSync(work, { recursive: true, force: true });
    };
  }
  return { name: 'finger', description: 'one connection per query on loopback; server on core 0, load on core 1', rounds, subjects };
}
