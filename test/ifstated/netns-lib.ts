// Network namespaces and a daemon running inside one, for the system tests
// and the benchmark. Names are moat-ifs-<pid>-<n>; callers delete them in finally.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let counter = 0;

export function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export function newNetns(): string {
  const name = `moat-ifs-${String(process.pid)}-${String(++counter)}`;
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  return name;
}

export function delNetns(name: string): void {
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
}

/** A veth pair with one end in `a` (10.77.0.1) and the other in `b` (10.77.0.2). */
export function vethPair(a: string, b: string, nameA = 'wan0', nameB = 'isp0'): void {
  ip('-n', a, 'link', 'add', nameA, 'type', 'veth', 'peer', 'name', nameB, 'netns', b);
  ip('-n', a, 'addr', 'add', '10.77.0.1/24', 'dev', nameA);
  ip('-n', b, 'addr', 'add', '10.77.0.2/24', 'dev', nameB);
  ip('-n', a, 'link', 'set', nameA, 'up');
  ip('-n', b, 'link', 'set', nameB, 'up');
}

const here = dirname(fileURLToPath(import.meta.url));
// The compiled CLI beside this compiled file: dist-NAME/bin/moat.js.
export const moatBin = join(here, '..', '..', 'bin', 'moat.js');

export interface RunningDaemon {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function startDaemon(ns: string, args: string[]): RunningDaemon {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, moatBin, 'ifstated', '-d', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    if (err.length < 4_000_000) err += c.toString('utf8');
  });
  return {
    child,
    pid: child.pid ?? -1,
    stderr: () => err,
    waitFor: async (re, timeoutMs = 15_000) => {
      const until = Date.now() + timeoutMs;
      while (!re.test(err)) {
        if (child.exitCode !== null) throw new Error(`daemon exited ${String(child.exitCode)}:\n${err}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${String(re)}; stderr:\n${err}`);
        await sleep(20);
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(t);
      }
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitForFile(path: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${path}`);
    await sleep(20);
  }
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${String(pid)}/fd`).length;
}

/** All descendants of a process (children, grandchildren...). */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent) {
      if (pp === p) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}
