// `npm run bench -- finger`: connections per second and p50/p99/p999 latency
// at concurrency 1, 50 and 500, one connection per query, on loopback; plus
// RSS with 1,000 idle connections. The load comes from fload
// (../shared/bench/fload.c, an epoll client in C, built here with gcc), so
// the client is never the bottleneck: a Node.js client saturates its own core
// near 11,000 connections per second. The server runs pinned to core 0 and
// fload to core 1 (taskset).
//
// Subjects, alternating within each round so drift hits all alike:
//   moat finger            limits raised out of the way (the figures compared)
//   bare node net          a net server writing the same bytes: Node's ceiling
//   in.fingerd (inetd)     Debian's fingerd under openbsd-inetd
//   moat (default limits)  every limit at its default: most of the load is
//                          refused by the per-address cap and rate limit, and
//                          the figures say how fast that happens
//   moat finger --chroot   with the native addon only: the first subject
//                          confined to the bench's directory, so only the
//                          confinement differs
// moat runs as the seed runs it: --run-as-user 65534:65534 when started as
// root, --log-no-local.
// Options: --duration-ms N (per level, default 4000), --rounds N (default 3),
// --levels 1,50,500.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../src/core/native.js';
import type { Benchmark, Figures, Subject } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/bench -> the repository, and ../shared beside it.
const repo = join(here, '..', '..');
const floadSource = join(repo, '..', 'shared', 'bench', 'fload.c');
const moatBin = join(here, '..', 'bin', 'moat.js');
const bareJs = join(here, 'finger-lib-bare.js');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Build fload once per source version, in a temp dir keyed by its hash (as the bpf oracle is). */
function buildFload(): string {
  if (!existsSync(floadSource)) throw new Error(`bench finger needs ${floadSource} (../shared beside the repository)`);
  const text = readFileSync(floadSource);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `moat-bench-fload-${hash}`);
  const bin = join(dir, 'fload');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${bin}.${String(process.pid)}`;
    const r = spawnSync('gcc', ['-O2', '-Wall', '-o', tmp, floadSource], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building fload failed (is gcc installed?): ${r.stderr}`);
    renameSync(tmp, bin);
  }
  return bin;
}

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

/** Wait until something accepts on `port` (fload in idle mode with one connection). */
async function waitForPort(fload: string, port: number, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${String(child.exitCode)}`);
    const r = spawnSync(fload, ['-p', String(port), '-i', '1', '-H', '0'], { encoding: 'utf8', timeout: 5000 });
    if (/^READY 1 /m.test(r.stdout)) return;
    await sleep(50);
  }
  throw new Error(`${what} never listened on ${String(port)}`);
}

interface FloadResult {
  cps: number;
  ok: number;
  errors: number;
  err_empty: number;
  lat_us_p50: number;
  lat_us_p99: number;
  lat_us_p999: number;
}

/** One level of load from fload pinned to core 1. */
function load(fload: string, port: number, concurrency: number, ms: number, query: string): FloadResult {
  const args = ['-c', '1', fload, '-p', String(port), '-c', String(concurrency), '-d', String(ms / 1000), '-r', query, '-t', '10'];
  const r = spawnSync('taskset', args, { encoding: 'utf8', timeout: ms + 60000 });
  if (r.status !== 0) throw new Error(`fload failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as FloadResult;
}

// USER_HZ: /proc/PID/stat counts CPU time in these (sysconf(_SC_CLK_TCK), 100 on Linux).
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * CPU seconds used by `pid` and its reaped children (inetd's in.fingerd).
 * On a shared machine the server may not get its whole core; CPU time per
 * answered connection is the figure that noise moves least.
 */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14 to 17 (proc(5)); here from index 11.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i] ?? 0), 0) / CLK_TCK;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

/** RSS of `pid` while fload holds 1,000 silent connections on it. */
async function idleRss(fload: string, port: number, pid: number): Promise<number> {
  const holder = spawn('taskset', ['-c', '1', fload, '-p', String(port), '-i', '1000', '-H', '3'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  holder.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise((r) => holder.once('exit', r));
  try {
    for (let i = 0; i < 400 && !out.includes('READY'); i++) await sleep(25);
    const m = /READY (\d+)/.exec(out);
    if (m === null || Number(m[1]) < 1000) throw new Error(`only ${m?.[1] ?? '0'} of 1000 idle connections opened: ${out}`);
    await sleep(700);
    return rssMb(pid);
  } finally {
    await exited;
  }
}

interface ServerSpec {
  name: string;
  start: (port: number) => ChildProcess;
  query: string;
  /** Measure RSS with 1,000 idle connections after the load. */
  rss: boolean;
  /** Refusals are the point: report answered and refused per second. */
  refusals?: boolean;
}

/** A server pinned to core 0, started once and measured by fload each round. */
function serverSubject(fload: string, spec: ServerSpec, levels: readonly number[], ms: number): Subject {
  let child: ChildProcess | undefined;
  let port = 0;
  return {
    name: spec.name,
    async setup() {
      port = await freePort();
      child = spec.start(port);
      await waitForPort(fload, port, child, spec.name);
    },
    async run() {
      const f: Figures = {};
      for (const c of levels) {
        const pid = child?.pid ?? 0;
        const cpu0 = cpuSeconds(pid);
        const r = load(fload, port, c, ms, spec.query);
        const cpu = cpuSeconds(pid) - cpu0;
        f[`c${String(c)} conn/s`] = r.cps;
        f[`c${String(c)} cpu us/conn`] = r.ok + r.errors === 0 ? NaN : (cpu * 1e6) / (r.ok + r.errors);
        f[`c${String(c)} cpu share`] = cpu / (ms / 1000);
        if (spec.refusals === true) {
          f[`c${String(c)} refused/s`] = r.errors / (ms / 1000);
          continue;
        }
        f[`c${String(c)} p50 ms`] = r.lat_us_p50 / 1000;
        f[`c${String(c)} p99 ms`] = r.lat_us_p99 / 1000;
        f[`c${String(c)} p999 ms`] = r.lat_us_p999 / 1000;
        f[`c${String(c)} errors`] = r.errors;
      }
      if (spec.rss && child?.pid !== undefined) {
        // After the load (the heap has grown), and on a fresh instance, which
        // GC timing under load does not move.
        f['RSS MB @1000 idle after load'] = await idleRss(fload, port, child.pid);
        const freshPort = await freePort();
        const fresh = spec.start(freshPort);
        try {
          await waitForPort(fload, freshPort, fresh, spec.name);
          if (fresh.pid !== undefined) f['RSS MB @1000 idle fresh'] = await idleRss(fload, freshPort, fresh.pid);
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
  await Promise.race([new Promise((r) => c.once('exit', r)), sleep(8000)]);
  if (alive()) c.kill('SIGKILL');
}

export default function finger(argv: string[]): Benchmark {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i === -1 ? undefined : argv[i + 1];
  };
  const ms = Number(opt('duration-ms') ?? 4000);
  const rounds = Number(opt('rounds') ?? 3);
  const levels = (opt('levels') ?? '1,50,500').split(',').map(Number);
  if (!Number.isFinite(ms) || ms < 100 || levels.some((l) => !Number.isInteger(l) || l < 1)) throw new Error('bench finger: bad --duration-ms or --levels');
  const fload = buildFload();
  const work = mkdtempSync(join(tmpdir(), 'moat-bench-finger-'));
  // nobody must reach the homes after the privilege drop.
  chmodSync(work, 0o755);
  const homes = join(work, 'homes');
  mkdirSync(join(homes, 'alice'), { recursive: true, mode: 0o755 });
  // A .plan of 41 bytes, as in issue 15.
  writeFileSync(join(homes, 'alice', '.plan'), 'Build the moat first, then the castle.\n\n', { mode: 0o644 });
  // The bare server writes the same bytes moat answers for alice.
  const reply = join(work, 'reply.txt');
  writeFileSync(reply, 'Login: alice\r\nPlan:\r\nBuild the moat first, then the castle.\r\n\r\n');
  const inetdConf = join(work, 'inetd.conf');
  const generous = ['--max-connections', '100000', '--max-per-ip', '100000', '--rate', '1000000', '--burst', '1000000'];
  const asSeed = [...(isRoot ? ['--run-as-user', '65534:65534'] : []), '--log-no-local'];
  const moat = (port: number, extra: string[]): ChildProcess =>
    spawn('taskset', ['-c', '0', process.execPath, moatBin, 'finger', '--listen', `127.0.0.1:${String(port)}`, '--homes', homes, ...asSeed, ...extra], { stdio: 'ignore' });
  const specs: ServerSpec[] = [
    { name: 'moat finger', start: (port) => moat(port, generous), query: 'alice\\r\\n', rss: true },
    { name: 'bare node net', start: (port) => spawn('taskset', ['-c', '0', process.execPath, bareJs, String(port), reply], { stdio: 'ignore' }), query: 'alice\\r\\n', rss: true },
    {
      name: 'in.fingerd (inetd)',
      // -d keeps inetd in the foreground; nowait.N lifts its 256/minute
      // respawn limit, -q its listen queue. in.fingerd runs finger(1) for a
      // passwd user: nobody, who has no .plan.
      start: (port) => {
        writeFileSync(inetdConf, `127.0.0.1:${String(port)} stream tcp nowait.10000000 nobody /usr/sbin/in.fingerd in.fingerd\n`);
        return spawn('taskset', ['-c', '0', '/usr/sbin/inetd', '-d', '-q', '1024', inetdConf], { stdio: 'ignore' });
      },
      query: 'nobody\\r\\n',
      rss: false,
    },
    { name: 'moat (default limits)', start: (port) => moat(port, []), query: 'alice\\r\\n', rss: false, refusals: true },
  ];
  if (isRoot && loadNative() !== undefined) {
    // --homes is then the path inside the bench's directory.
    const chrooted = (port: number): ChildProcess =>
      spawn('taskset', ['-c', '0', process.execPath, moatBin, 'finger', '--chroot', work, '--listen', `127.0.0.1:${String(port)}`, '--homes', '/homes', ...asSeed, ...generous], { stdio: 'ignore' });
    specs.splice(1, 0, { name: 'moat finger --chroot', start: chrooted, query: 'alice\\r\\n', rss: true });
  }
    // in.fingerd is a peer only where Debian's fingerd and openbsd-inetd are installed (README's package list).
  const haveInetd = existsSync('/usr/sbin/in.fingerd') && existsSync('/usr/sbin/inetd');
  if (!haveInetd) process.stderr.write('bench finger: no /usr/sbin/in.fingerd or /usr/sbin/inetd; in.fingerd is left out\n');
  const subjects = specs.filter((s) => s.name !== 'in.fingerd (inetd)' || haveInetd).map((s) => serverSubject(fload, s, levels, ms));
  return {
    name: 'finger',
    description: `one connection per query on loopback, fload on core 1, server on core 0, ${String(ms)} ms per level`,
    rounds,
    subjects,
    cleanup: () => {
      rmSync(work, { recursive: true, force: true });
    },
  };
}
