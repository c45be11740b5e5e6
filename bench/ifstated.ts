// `npm run bench -- ifstated [flaps] [ping-flaps]`: how fast moat ifstated
// reacts to carrier loss (ip link set X down → the `run` command starting),
// p50/p99 over 100 flaps in a network namespace, side by side with the
// seed's method (a 1 s ping test, `ping -c 1 -W 1` every 1) in the same run.
// The moat subject also reports idle cost: CPU% and RSS with 200 veth pairs
// and 50 tests per second.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, Figures } from './harness.js';
import { cpuTicks, delNetns, ip, ipBatch, newNetns, percentile, rssMb, sleep, startDaemon, stopDaemon, waitForFile } from './ifstated-lib.js';

interface World {
  a: string;
  b: string;
  dir: string;
}

function world(): World {
  const a = newNetns();
  const b = newNetns();
  ip('-n', a, 'link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'isp0', 'netns', b);
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

type Cut = 'admin' | 'carrier';

/**
 * Flap `n` times; reaction = the run command's file mtime − the moment before
 * `ip link set down`. 'admin' downs the watched interface itself; 'carrier'
 * downs the peer's end, so the watched one loses carrier. The kernel's link
 * watch reports carrier changes at most once a second, so carrier flaps are
 * spaced 1.1 s apart (a real link does not flap faster).
 */
async function reaction(conf: (dir: string) => string, flaps: number, cut: Cut, label: string): Promise<Figures> {
  const w = world();
  const file = join(w.dir, 'ifstated.conf');
  writeFileSync(file, conf(w.dir));
  const d = startDaemon(w.a, file);
  const times: number[] = [];
  try {
    await waitForFile(join(w.dir, 'working'));
    for (let i = 0; i < flaps; i++) {
      rmSync(join(w.dir, 'broken'), { force: true });
      rmSync(join(w.dir, 'working'), { force: true });
      const [ns, dev] = cut === 'admin' ? [w.a, 'wan0'] : [w.b, 'isp0'];
      // A short pause so the previous `run` has finished: one flap at a time.
      await sleep(cut === 'carrier' ? 1100 : 20);
      const t0 = performance.timeOrigin + performance.now();
      ip('-n', ns, 'link', 'set', dev, 'down');
      const t1 = await waitForFile(join(w.dir, 'broken'));
      times.push(t1 - t0);
      if (cut === 'carrier') await sleep(1100);
      ip('-n', ns, 'link', 'set', dev, 'up');
      await waitForFile(join(w.dir, 'working'));
    }
  } finally {
    await stopDaemon(d);
    cleanup(w);
  }
  times.sort((x, y) => x - y);
  return { [`${label} p50 ms`]: percentile(times, 50), [`${label} p99 ms`]: percentile(times, 99) };
}

const linkConf = (dir: string): string => `state working {
	init run "touch ${dir}/working"
	if wan0.link.down
		set-state broken
}
state broken {
	init run "touch ${dir}/broken"
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
	init run "touch ${dir}/broken"
	if $peer
		set-state working
}
`;

/** 200 veth pairs, a config watching all 400 ends, 50 distinct tests every second; sample 10 s. */
async function idleCost(): Promise<Figures> {
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
    const d = startDaemon(ns, file);
    try {
      await sleep(5000);
      const pid = d.pid ?? -1;
      const c0 = cpuTicks(pid);
      const t0 = Date.now();
      await sleep(10_000);
      const c1 = cpuTicks(pid);
      const secs = (Date.now() - t0) / 1000;
      return {
        'idle cpu % (daemon)': ((c1.self - c0.self) / 100 / secs) * 100,
        'idle cpu % (+tests)': ((c1.self + c1.children - c0.self - c0.children) / 100 / secs) * 100,
        'idle rss MB': rssMb(pid),
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
  const carrierFlaps = Number(argv[1] ?? 30);
  const pingFlaps = Number(argv[2] ?? 10);
  return {
    name: 'ifstated',
    description: `link down to run command start, ms (admin down ${String(flaps)} flaps, carrier loss ${String(carrierFlaps)}; seed's 1 s ping test ${String(pingFlaps)}); idle cost`,
    rounds: 1,
    subjects: [
      {
        name: 'moat link monitor',
        run: async () => ({
          ...(await reaction(linkConf, flaps, 'admin', 'admin down')),
          ...(await reaction(linkConf, carrierFlaps, 'carrier', 'carrier loss')),
          ...(await idleCost()),
        }),
      },
      { name: 'seed ping every 1', run: () => reaction(pingConf, pingFlaps, 'carrier', 'carrier loss') },
    ],
  };
}
