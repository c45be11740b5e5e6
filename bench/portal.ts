// `npm run bench -- portal [--rounds N]`: moat portal in the namespaces of the
// acceptance lab (client, gateway, wan with Debian's freeradius).
// - login latency: from the login request leaving the client to the first
//   packet the gateway forwards (a TCP connect to the wan that succeeds),
//   p50 and p99 over 20 logins, with 1, 100 and 1,000 sessions already online
//   (the others are put in the journal before the start, so the kernel holds
//   them as set elements, as after a restart);
// - a crowd: 200 client namespaces with macvlans (bench/portal-lib-load.ts),
//   leases from the portal's dnsmasq, all posting the login form at the same
//   moment; all online? time to the last, p50/p99 per client. There is no
//   peer for this one (CoovaChilli and openNDS are not in Debian);
// - forwarding throughput of an authorised client: TCP streams of 4 s (after
//   1 s) from the wan to the client, through the gateway with moat's table
//   and its 1,001 elements, and through the same namespaces and veths with
//   the table deleted (no rule, no conntrack), in pairs taken back to back;
//   the figure is the median of the pairs' ratios (portal-lib-forward.ts).
//   The stream is bench/portal-load.c's, source and sink pinned to the two
//   cores, with no copy at either end. No peer runs: the baseline is no
//   portal at all;
// - the daemon's RSS and CPU over 15 s idle with 1,000 sessions and 60 s
//   interim updates.
// Needs root, gcc, nft, dnsmasq, dhclient and freeradius.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFreeradius, type Freeradius, type FreeradiusOptions } from '../test/helpers/freeradius.js';
import { LAB, TCP_SOURCE_SERVER, makePortalLab, run, serveIn, stop, type PortalLab } from '../test/helpers/portal-netns.js';
import type { Benchmark, Figures } from './harness.js';
import { forwardFigures, forwardPairs } from './portal-lib-forward.js';
import { buildPortalLoad, crowdLogin, makeCrowd, type Crowd } from './portal-lib-load.js';

const SECRET = 'benchsecret123';
const MOAT = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'bin', 'moat.js');
const LOGINS = 20;
const RESULTS = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bench', 'results');
/** Clients of the crowd, and the DHCP range their leases come from. */
const CROWD = 200;
const CROWD_RANGE = ['10.77.0.20', '10.77.0.250'] as const;
const CROWD_PASSWORD = 'crowd-pass';
/** The crowd's probes every PROBE_MS (and one when its answer arrives): the error of "online" is at most that; the load process's CPU is reported. */
const PROBE_MS = 10;
const SINK_PORT = 9004;

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
  load: string;
  /** Made only when the crowd is measured. */
  crowd?: Crowd | undefined;
  /** Seconds the crowd's 200 dhclients took (setup), reported with the first round. */
  dhcpSeconds?: number | undefined;
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

/** The daemon's config; the crowd's runs dnsmasq (DHCP, DNS), the others do not need it. */
function config(dir: string, crowd: boolean): string {
  const dns = crowd ? `dns:\n  upstream: [${LAB.wanV4}]\ndhcp:\n  range: [${CROWD_RANGE.join(', ')}]\n  lease-time: 3600\n` : 'dns:\n  managed: false\n';
  return `nas-id: bench-gw
interface: ${LAB.lan}
address: ${LAB.gwV4}/24
${dns}radius:
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

async function startDaemon(w: World, sessions: number, crowd = false): Promise<ChildProcess> {
  const state = join(w.dir, 'state');
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, 'sessions.json'), journal(sessions));
  const file = join(w.dir, crowd ? 'crowd.yaml' : 'portal.yaml');
  const child = spawn('ip', ['netns', 'exec', w.lab.gw, process.execPath, MOAT, 'portal', 'run', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
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
  // A stopped daemon leaves its table and its pinned neighbour entries (for a
  // restart); the next part starts from a gateway that knows no client.
  run(['ip', '-n', w.lab.gw, 'neigh', 'flush', 'dev', LAB.lan, 'nud', 'all']);
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

/** The crowd logs in at once; the daemon runs dnsmasq, with no other session. */
async function crowdFigures(w: World): Promise<Figures> {
  w.daemon = await startDaemon(w, 0, true);
  if (w.crowd === undefined) throw new Error('no crowd');
  const r = await crowdLogin(w.load, w.crowd, w.lab.wan, { sinkPort: SINK_PORT, probeMs: PROBE_MS, timeoutMs: 60_000, user: 'crowd', password: CROWD_PASSWORD });
  await stopDaemon(w);
  // Every client's times, for a look at the distribution (the last round's).
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'portal-crowd.json'), `${JSON.stringify(r, null, 1)}\n`);
  const online = r.clients.filter((c) => c.online >= 0);
  const fromStart = online.map((c) => c.online).sort((a, b) => a - b);
  const fromPost = online.map((c) => c.online - c.posted).sort((a, b) => a - b);
  const answered = r.clients.filter((c) => c.answered >= 0).map((c) => c.answered - c.posted).sort((a, b) => a - b);
  const figures: Figures = {
    [`crowd online (of ${String(CROWD)})`]: online.length,
    'crowd logins not 302': r.clients.filter((c) => c.status !== 302).length,
    'crowd ms to last online': online.length === r.clients.length ? (fromStart.at(-1) ?? NaN) : NaN,
    'crowd online p50 ms': percentile(fromStart, 50),
    'crowd online p99 ms': percentile(fromStart, 99),
    'crowd POST-online p50 ms': percentile(fromPost, 50),
    'crowd POST-online p99 ms': percentile(fromPost, 99),
    'crowd POST-answer p99 ms': percentile(answered, 99),
    'crowd load CPU ms': r.cpuMs,
  };
  if (w.dhcpSeconds !== undefined) {
    figures['crowd DHCP s (setup)'] = w.dhcpSeconds;
    w.dhcpSeconds = undefined;
  }
  return figures;
}

function procStat(pid: number): { ticks: number; rssMb: number } {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1];
  return { ticks, rssMb: Number(rss) / 1024 };
}

/** Whatever still runs in the lab's namespaces was started by this bench (dnsmasq, dhclient); then the namespaces go. */
function removeAll(x: World): void {
  killIn([x.lab.gw, x.lab.wan, ...x.lab.clients, ...(x.crowd?.clients ?? [])]);
  x.crowd?.destroy();
  x.lab.destroy();
  rmSync(x.dir, { recursive: true, force: true });
  rmSync(x.radius.dir, { recursive: true, force: true });
}

/** Every process in these namespaces (the bench started them all). */
function killIn(namespaces: readonly string[]): void {
  for (const ns of namespaces) {
    for (const pid of run(['ip', 'netns', 'pids', ns]).stdout.split('\n').filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

const PARTS = ['login', 'crowd', 'forward', 'idle'] as const;
type Part = (typeof PARTS)[number];

/** `--only login,crowd,forward,idle`: the parts to measure (default all). */
function partsOf(argv: readonly string[]): Set<Part> {
  const at = argv.indexOf('--only');
  if (at < 0) return new Set(PARTS);
  const want = (argv[at + 1] ?? '').split(',');
  const bad = want.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (bad.length > 0 || want.length === 0) throw new Error(`bench portal: --only takes a list of ${PARTS.join(', ')}`);
  return new Set(want as Part[]);
}

export default function portalBench(argv: readonly string[] = []): Benchmark {
  const parts = partsOf(argv);
  let w: World | undefined;
  /** The lab while setup makes the rest. */
  let early: PortalLab | undefined;
  /** Ctrl-C or kill during a run: no namespace, process or table is left behind. */
  const interrupted = (signal: NodeJS.Signals): void => {
    if (w !== undefined) removeAll(w);
    else if (early !== undefined) {
      killIn([early.gw, early.wan, ...early.clients]);
      early.destroy();
    }
    process.stderr.write(`bench portal: ${signal}, cleaned up\n`);
    process.exit(130);
  };
  const world = (): World => {
    if (w === undefined) throw new Error('no world');
    return w;
  };
  return {
    name: 'portal',
    description: `moat portal: login latency with 1/100/1000 sessions, ${String(CROWD)} clients at once, forwarding vs no portal, idle RSS/CPU with 1000 sessions`,
    rounds: 3,
    subjects: [
      {
        name: 'moat portal',
        setup: async () => {
          const load = buildPortalLoad();
          process.once('SIGINT', interrupted);
          process.once('SIGTERM', interrupted);
          const lab = makePortalLab(1);
          early = lab;
          const dir = mkdtempSync(join(tmpdir(), 'moat-portal-bench-'));
          const opts: FreeradiusOptions = {
            secret: SECRET,
            users: [{ name: 'bench', password: 'bench-pass' }, ...Array.from({ length: CROWD }, (_, i) => ({ name: `crowd${String(i)}`, password: CROWD_PASSWORD }))],
            netns: lab.wan,
            listenAddress: LAB.wanV4,
            clients: [{ address: LAB.gwWanV4, secret: SECRET }],
            // Threaded and not tracing every request, as a real deployment's.
            production: true,
          };
          let radius: Freeradius | undefined;
          try {
            radius = await startFreeradius(opts);
            w = { lab, radius, dir, servers: [], load, crowd: parts.has('crowd') ? makeCrowd(lab, CROWD, dir) : undefined };
          } catch (e) {
            await radius?.stop();
            lab.destroy();
            rmSync(dir, { recursive: true, force: true });
            throw e;
          } finally {
            early = undefined;
          }
          // From here on teardown removes what was made, and so does an interrupt.
          writeFileSync(join(dir, 'portal.yaml'), config(dir, false));
          writeFileSync(join(dir, 'crowd.yaml'), config(dir, true));
          lab.addressClient(0, '10.77.0.10');
          w.servers.push(await serveIn(lab.wan, TCP_SOURCE_SERVER, ['9002']));
          // The crowd's leases, from the portal's own dnsmasq.
          if (w.crowd !== undefined) {
            w.daemon = await startDaemon(w, 0, true);
            w.dhcpSeconds = await w.crowd.dhcp(16);
            await stopDaemon(w);
          }
        },
        run: async () => {
          const x = world();
          const figures: Figures = {};
          if (parts.has('login')) for (const n of [1, 100, 1000]) Object.assign(figures, await loginLatency(x, n));
          if (parts.has('crowd')) Object.assign(figures, await crowdFigures(x));
          if (!parts.has('forward') && !parts.has('idle')) return figures;
          // Idle cost and forwarding, with 1000 sessions online plus ours.
          x.daemon = await startDaemon(x, 1000);
          await nodeInAsync(x.lab.clients[0] ?? '', LOGIN_PROBE, [LAB.gwV4, LAB.wanV4, '9002']);
          if (parts.has('idle')) {
            const pid = x.daemon.pid ?? 0;
            const a = procStat(pid);
            await new Promise((r) => setTimeout(r, 15_000));
            const b = procStat(pid);
            figures['idle CPU % (1000 sessions)'] = ((b.ticks - a.ticks) / 100 / 15) * 100;
            figures['RSS MB (1000 sessions)'] = b.rssMb;
          } else {
            // What follows a start (restoring 1,000 elements, pinning neighbours) is over before the stream.
            await new Promise((r) => setTimeout(r, 3000));
          }
          if (parts.has('forward')) Object.assign(figures, forwardFigures(await forwardPairs({ lab: x.lab, daemon: x.daemon, load: x.load, table: 'moat_bench' }), RESULTS));
          await stopDaemon(x);
          return figures;
        },
        teardown: async () => {
          if (w === undefined) return;
          process.off('SIGINT', interrupted);
          process.off('SIGTERM', interrupted);
          await stopDaemon(w);
          for (const s of w.servers) await stop(s);
          await w.radius.stop();
          removeAll(w);
          w = undefined;
        },
      },
    ],
  };
}
