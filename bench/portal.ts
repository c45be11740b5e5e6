// `npm run bench -- portal [--rounds N]`: moat portal in the namespaces of the
// acceptance lab (client, gateway, wan with Debian's freeradius).
// - login latency: from the login request leaving the client to the first
//   packet the gateway forwards (a TCP connect to the wan that succeeds),
//   p50 and p99 over 20 logins, with 1, 100 and 1,000 sessions already online
//   (the others are put in the journal before the start, so the kernel holds
//   them as set elements, as after a restart);
// - forwarding throughput of an authorised client, 3 s TCP download, against
//   the same namespaces with no portal at all (no table, no daemon): ratio;
// - the daemon's RSS and CPU over 15 s idle with 1,000 sessions and 60 s
//   interim updates.
// Needs root, nft, dnsmasq and freeradius.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFreeradius, type Freeradius, type FreeradiusOptions } from '../test/helpers/freeradius.js';
import { LAB, TCP_DOWNLOAD, TCP_SOURCE_SERVER, makePortalLab, run, serveIn, stop, type PortalLab } from '../test/helpers/portal-netns.js';
import type { Benchmark, Figures } from './harness.js';

const SECRET = 'benchsecret123';
const MOAT = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'bin', 'moat.js');
const LOGINS = 20;

/** In the client: send the JSON logon, then try TCP to the wan every ms until one connects. Prints ms. */
const LOGIN_PROBE = `
import http from 'node:http';
import net from 'node:net';
const [gw, wan, port] = process.argv.slice(-3);
const t0 = performance.now();
http.get({ host: gw, port: 3990, path: '/json/logon?username=bench&password=bench-pass', agent: false }, (res) => { res.resume(); });
const attempt = () => {
  const s = net.connect({ host: wan, port: Number(port) });
  s.setTimeout(50, () => { s.destroy(); attempt(); });
  s.on('connect', () => { console.log(JSON.stringify({ ms: performance.now() - t0 })); process.exit(0); });
  s.on('error', () => { s.destroy(); setTimeout(attempt, 1); });
};
attempt();
setTimeout(() => { console.log(JSON.stringify({ ms: -1 })); process.exit(0); }, 10000);
`;

/** `moat portal query logout MAC`, as a child whose output is JSON. */
const LOGOUT = `
import { execFileSync } from 'node:child_process';
const [moat, sock, mac] = process.argv.slice(-3);
try { execFileSync(process.execPath, [moat, 'portal', 'query', '-S', sock, 'logout', mac]); } catch {}
console.log('{}');
`;

interface World {
  lab: PortalLab;
  radius: Freeradius;
  dir: string;
  servers: ChildProcess[];
  daemon?: ChildProcess | undefined;
}

/**
 * nodeIn, but without blocking the event loop: freeradius -X writes its log
 * into a pipe this process must keep draining, or it stops answering.
 */
function nodeInAsync<T>(ns: string, source: string, args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', source, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out) as T);
      else reject(new Error(`node in ${ns} failed: ${err}`));
    });
  });
}

function config(dir: string): string {
  return `nas-id: bench-gw
interface: ${LAB.lan}
address: ${LAB.gwV4}/24
dns:
  managed: false
radius:
  servers: [{ host: ${LAB.wanV4}, secret: ${SECRET} }]
web:
  login-rate: 1000
session:
  state-dir: ${join(dir, 'state')}
  interim-interval: 60
query:
  socket: ${join(dir, 'q.sock')}
firewall:
  table: moat_bench
`;
}

/** A journal with `n` sessions of made-up clients (10.77.1.x/10.77.2.x... are outside DHCP, never answer). */
function journal(n: number): string {
  const now = Date.now();
  const zero = { bu: '0', bd: '0', pu: '0', pd: '0' };
  const sessions = Array.from({ length: n }, (_, i) => ({
    id: `bench${String(i).padStart(11, '0')}`,
    client: { ifname: LAB.lan, mac: `02:99:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`, ipv4: `10.77.${String(100 + (i >> 8))}.${String(i & 0xff)}` },
    userName: `u${String(i)}`,
    kind: 'admin',
    startedAt: now,
    policy: {},
    totals: zero,
    lastKernel: zero,
    lastActivity: now,
    lastInterim: now,
    startSent: true,
  }));
  return JSON.stringify({ version: 1, sessions });
}

async function startDaemon(w: World, sessions: number): Promise<ChildProcess> {
  const state = join(w.dir, 'state');
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, 'sessions.json'), journal(sessions));
  const child = spawn('ip', ['netns', 'exec', w.lab.gw, process.execPath, MOAT, 'portal', 'run', '-f', join(w.dir, 'portal.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no start:\n${log}`)); }, 60_000);
    child.stderr.on('data', (b: Buffer) => {
      log += b.toString();
      if (log.includes('moat-portal: started')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => { reject(new Error(`exited:\n${log}`)); });
  });
  child.removeAllListeners('exit');
  return child;
}

async function stopDaemon(w: World): Promise<void> {
  const d = w.daemon;
  if (d === undefined) return;
  await new Promise<void>((resolve) => {
    d.once('exit', () => { resolve(); });
    d.kill('SIGTERM');
  });
  w.daemon = undefined;
  run(['ip', 'netns', 'exec', w.lab.gw, 'nft', 'delete', 'table', 'inet', 'moat_bench']);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function loginLatency(w: World, present: number): Promise<Figures> {
  w.daemon = await startDaemon(w, present);
  const c = w.lab.clients[0] ?? '';
  const times: number[] = [];
  for (let i = 0; i < LOGINS; i++) {
    const r = await nodeInAsync<{ ms: number }>(c, LOGIN_PROBE, [LAB.gwV4, LAB.wanV4, '9002']);
    times.push(r.ms);
    await nodeInAsync(w.lab.gw, LOGOUT, [MOAT, join(w.dir, 'q.sock'), w.lab.mac(0)]);
  }
  await stopDaemon(w);
  const ok = times.filter((t) => t >= 0).sort((a, b) => a - b);
  return { [`login p50 ms (${String(present)})`]: percentile(ok, 50), [`login p99 ms (${String(present)})`]: percentile(ok, 99), [`login failures (${String(present)})`]: times.length - ok.length };
}

async function download(w: World): Promise<number> {
  const r = await nodeInAsync<{ bytes: number; ms: number }>(w.lab.clients[0] ?? '', TCP_DOWNLOAD, [LAB.wanV4, '9002', '3']);
  return (r.bytes * 8) / (r.ms / 1000) / 1e6;
}

function procStat(pid: number): { ticks: number; rssMb: number } {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1];
  return { ticks, rssMb: Number(rss) / 1024 };
}

export default function portalBench(): Benchmark {
  let w: World | undefined;
  const world = (): World => {
    if (w === undefined) throw new Error('no world');
    return w;
  };
  return {
    name: 'portal',
    description: 'moat portal: login latency with 1/100/1000 sessions, forwarding vs no portal, idle RSS/CPU with 1000 sessions',
    rounds: 3,
    subjects: [
      {
        name: 'moat portal',
        setup: async () => {
          const lab = makePortalLab(1);
          const dir = mkdtempSync(join(tmpdir(), 'moat-portal-bench-'));
          const opts: FreeradiusOptions = {
            secret: SECRET,
            users: [{ name: 'bench', password: 'bench-pass' }],
            netns: lab.wan,
            listenAddress: LAB.wanV4,
            clients: [{ address: LAB.gwWanV4, secret: SECRET }],
          };
          const radius = await startFreeradius(opts);
          writeFileSync(join(dir, 'portal.yaml'), config(dir));
          lab.addressClient(0, '10.77.0.10');
          w = { lab, radius, dir, servers: [await serveIn(lab.wan, TCP_SOURCE_SERVER, ['9002'])] };
        },
        run: async () => {
          const x = world();
          const figures: Figures = {};
          for (const n of [1, 100, 1000]) Object.assign(figures, await loginLatency(x, n));
          // Forwarding and idle cost, with 1000 sessions online plus ours.
          x.daemon = await startDaemon(x, 1000);
          await nodeInAsync(x.lab.clients[0] ?? '', LOGIN_PROBE, [LAB.gwV4, LAB.wanV4, '9002']);
          figures['forward Mbit/s'] = await download(x);
          const pid = x.daemon.pid ?? 0;
          const a = procStat(pid);
          await new Promise((r) => setTimeout(r, 15_000));
          const b = procStat(pid);
          figures['idle CPU % (1000 sessions)'] = ((b.ticks - a.ticks) / 100 / 15) * 100;
          figures['RSS MB (1000 sessions)'] = b.rssMb;
          await stopDaemon(x);
          return figures;
        },
        teardown: async () => {
          if (w === undefined) return;
          await stopDaemon(w);
          for (const s of w.servers) await stop(s);
          await w.radius.stop();
          w.lab.destroy();
          rmSync(w.dir, { recursive: true, force: true });
        },
      },
      {
        // The same namespaces with no portal: plain forwarding.
        name: 'no portal',
        run: async () => ({ 'forward Mbit/s': await download(world()) }),
      },
    ],
  };
}
