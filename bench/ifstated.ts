// `npm run bench -- ifstated [admin-flaps] [carrier-flaps] [ping-flaps] [phys-flaps]`:
// how fast moat ifstated reacts to a link going down (ip link set X down →
// the `run` command starting), p50/p99 over 100 flaps in a network namespace,
// side by side with the seed's method (a 1 s ping test, `ping -c 1 -W 1`
// every 1) in the same run. The moat subject also reports idle cost: CPU%
// and RSS with 200 veth pairs and 50 tests per second, with tests started by
// posix_spawn (the native addon); two more subjects give the same figures
// with tests started by the perl helper and by the daemon's own fork, so the
// three ways are compared in one run. Every process's CPU is counted: the
// daemon, the helper, and the tests themselves (reaped children's time).
//
// Carrier loss is the peer's end going down. The kernel reports it through
// linkwatch (net/core/link_watch.c), which handles a device at once only if
// linkwatch_urgent_event() says so: for a veth, when its ifindex differs from
// its iflink (the peer's ifindex). Two fresh namespaces give both ends
// ifindex 2, which made the pair look like a physical NIC, whose carrier
// events linkwatch batches at most once a second, globally (so any other
// link event on the host in the last second delays ours). The pair is now
// created with distinct indexes; the 'phys' figures keep equal indexes to
// show that kernel delay. A reference `ip -ts monitor` beside the daemon
// stamps each netlink message, splitting every reaction into the kernel's
// share and the daemon's.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, Figures } from './harness.js';
import { childPids, commName, cpuTicks, delNetns, ip, ipBatch, newNetns, percentile, ReferenceMonitor, rssMb, RunStamps, sleep, startDaemon, stopDaemon, waitForFile } from './ifstated-lib.js';

interface World {
  a: string;
  b: string;
  dir: string;
}

function world(sameIndex: boolean): World {
  const a = newNetns();
  const b = newNetns();
  const index = (i: number): string[] => (sameIndex ? [] : ['index', String(i)]);
  ip('-n', a, 'link', 'add', 'wan0', ...index(11), 'type', 'veth', 'peer', 'name', 'isp0', ...index(12), 'netns', b);
  ip('-n', a, 'addr', 'add', '10.77.0.1/24', 'dev', 'wan0');
  ip('-n', b, 'addr', 'add', '10.77.0.2/24', 'dev', 'isp0');
  ip('-n', a, 'link', 'set', 'wan0', 'up');
  ip('-n', b, 'link', 'set', 'isp0', 'up');
  return { a, b, dir: mkdtempSync(join(tmpdir(), 'moat-ifs-bench-')) };
}

function cleanup(w: World): void {
  delNetns(w.a);
  delNetns(w.b);
  rmSync(w.dir, { recursive: true, force: true });
}

/** 'admin' downs the watched interface itself; 'carrier' downs the peer's end; 'phys' is 'carrier' with equal ifindexes. */
type Cut = 'admin' | 'carrier' | 'phys';

/**
 * Flap `n` times; reaction = the stamp `date -Ins` (the run command) took
 * once started − the wall clock just before `ip link set down` (so ip's own
 * start-up counts, as the issue words it; Date.now() truncates to the ms, so
 * t0 reads up to 1 ms early: both errors make reactions look longer).
 * With equal ifindexes linkwatch reports at most once a second, so those
 * flaps are spaced 1.1 s apart; urgent ones 0.3 s (the daemon is idle again
 * well before). With `split`, the reference monitor's stamp divides each
 * reaction into kernel (t0 → netlink message) and daemon (message → run).
 */
async function reaction(conf: (dir: string) => string, flaps: number, cut: Cut, label: string, split: boolean): Promise<Figures> {
  const w = world(cut === 'phys');
  const file = join(w.dir, 'ifstated.conf');
  writeFileSync(file, conf(w.dir));
  const ref = split ? new ReferenceMonitor(w.a) : undefined;
  const d = startDaemon(w.a, file, true);
  if (d.stderr === null) throw new Error('no daemon log');
  const stamps = new RunStamps(d.stderr);
  const times: number[] = [];
  const kernel: number[] = [];
  const daemon: number[] = [];
  const gap = cut === 'phys' ? 1100 : cut === 'carrier' ? 300 : 20;
  try {
    await waitForFile(join(w.dir, 'working'));
    for (let i = 0; i < flaps; i++) {
      rmSync(join(w.dir, 'working'), { force: true });
      const [ns, dev] = cut === 'admin' ? [w.a, 'wan0'] : [w.b, 'isp0'];
      // A pause so the previous `run` has finished: one flap at a time.
      await sleep(gap);
      stamps.clear();
      const t0 = Date.now();
      ip('-n', ns, 'link', 'set', dev, 'down');
      const t1 = await stamps.next();
      times.push(t1 - t0);
      const seen = ref?.downAfter('wan0', t0 - 2);
      if (seen !== undefined) {
        kernel.push(seen - t0);
        daemon.push(t1 - seen);
      }
      if (cut !== 'admin') await sleep(gap);
      ip('-n', ns, 'link', 'set', dev, 'up');
      await waitForFile(join(w.dir, 'working'));
    }
  } finally {
    await stopDaemon(d);
    await ref?.stop();
    cleanup(w);
  }
  const out: Figures = {};
  for (const [name, list] of [['', times], [' kernel', kernel], [' daemon', daemon]] as const) {
    if (list.length === 0) continue;
    list.sort((x, y) => x - y);
    out[`${label}${name} p50 ms`] = percentile(list, 50);
    out[`${label}${name} p99 ms`] = percentile(list, 99);
  }
  return out;
}

const linkConf = (dir: string): string => `state working {
	init run "touch ${dir}/working"
	if wan0.link.down
		set-state broken
}
state broken {
	init run "date -Ins"
	if wan0.link.up
		set-state working
}
`;

const pingConf = (dir: string): string => `peer = '( "ping -c 1 -W 1 10.77.0.2" every 1 )'
state working {
	init run "touch ${dir}/working"
	if ! $peer
		set-state broken
}
state broken {
	init run "date -Ins"
	if $peer
		set-state working
}
`;

/** How the daemon starts tests (MOAT_IFSTATED_SPAWNER). */
type SpawnWay = 'posix_spawn' | 'perl' | 'fork';

/** 200 veth pairs, a config watching all 400 ends, 50 distinct tests every second; sample 20 s. */
async function idleCost(way: SpawnWay): Promise<Figures> {
  const ns = newNetns();
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-bench-'));
  try {
    const lines: string[] = [];
    for (let i = 0; i < 200; i++) lines.push(`link add va${String(i)} type veth peer name vb${String(i)}`, `link set va${String(i)} up`, `link set vb${String(i)} up`);
    ipBatch(ns, lines);
    const ifs = Array.from({ length: 200 }, (_, i) => `va${String(i)}.link.up && vb${String(i)}.link.up`).join(' && \\\n\t');
    const tests = Array.from({ length: 50 }, (_, i) => `"true ${String(i)}" every 1`).join(' && \\\n\t');
    const conf = `state idle {\n\tif ${ifs}\n\t\trun "true"\n\tif ${tests}\n\t\trun "true"\n}\n`;
    const file = join(dir, 'ifstated.conf');
    writeFileSync(file, conf);
    const d = startDaemon(ns, file, false, way);
    try {
      await sleep(5000);
      if (d.exitCode !== null) throw new Error(`the daemon exited (${String(d.exitCode)}) with MOAT_IFSTATED_SPAWNER=${way}`);
      // startDaemon runs `ip netns exec`, which execs node: same pid.
      const pid = d.pid ?? -1;
      // The test spawner (perl), when the daemon uses one.
      const helper = childPids(pid).find((c) => commName(c) === 'perl');
      const sample = (): { self: number; helper: number; tests: number } => {
        const c = cpuTicks(pid);
        const h = helper === undefined ? { self: 0, children: 0 } : cpuTicks(helper);
        return { self: c.self, helper: h.self, tests: c.children + h.children };
      };
      const c0 = sample();
      const t0 = Date.now();
      await sleep(20_000);
      const c1 = sample();
      const secs = (Date.now() - t0) / 1000;
      // Clock ticks are 1/100 s (USER_HZ); % of one core.
      const pct = (ticks: number): number => ticks / secs;
      return {
        'idle cpu % (daemon)': pct(c1.self - c0.self),
        'idle cpu % (spawner)': pct(c1.helper - c0.helper),
        'idle cpu % (daemon+spawner)': pct(c1.self + c1.helper - c0.self - c0.helper),
        'idle cpu % (tests)': pct(c1.tests - c0.tests),
        'idle cpu % (all processes)': pct(c1.self + c1.helper + c1.tests - c0.self - c0.helper - c0.tests),
        'idle rss MB': rssMb(pid),
        'idle rss MB (spawner)': helper === undefined ? 0 : rssMb(helper),
      };
    } finally {
      await stopDaemon(d);
    }
  } finally {
    delNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  }
}

export default function ifstated(argv: string[]): Benchmark {
  const flaps = Number(argv[0] ?? 100);
  const carrierFlaps = Number(argv[1] ?? 100);
  const pingFlaps = Number(argv[2] ?? 10);
  const physFlaps = Number(argv[3] ?? 30);
  return {
    name: 'ifstated',
    description: `link down to run command start, ms (admin down ${String(flaps)} flaps, carrier loss ${String(carrierFlaps)}, carrier loss with equal ifindexes ${String(physFlaps)}; seed's 1 s ping test ${String(pingFlaps)}); idle cost with 50 tests/s started by posix_spawn, the perl helper, and fork`,
    rounds: 1,
    subjects: [
      {
        name: 'moat link monitor',
        run: async () => ({
          ...(await reaction(linkConf, flaps, 'admin', 'admin down', false)),
          ...(await reaction(linkConf, carrierFlaps, 'carrier', 'carrier loss', true)),
          ...(physFlaps > 0 ? await reaction(linkConf, physFlaps, 'phys', 'carrier loss, equal ifindex', true) : {}),
          ...(await idleCost('posix_spawn')),
        }),
      },
      { name: 'tests by perl helper', run: () => idleCost('perl') },
      { name: 'tests by fork', run: () => idleCost('fork') },
      { name: 'seed ping every 1', run: () => reaction(pingConf, pingFlaps, 'carrier', 'carrier loss', false) },
    ],
  };
}
