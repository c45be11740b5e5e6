// Helpers for bench/ifstated.ts: namespaces, a daemon inside one, /proc sampling.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const moatBin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'moat.js');

// Namespaces as the system tests make them.
export { delNetns, ip, newNetns, sleep } from '../test/ifstated/netns-lib.js';

export function ipBatch(ns: string, lines: string[]): void {
  const r = spawnSync('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip -batch: ${r.stderr.trim()}`);
}

/** `spawner` sets MOAT_IFSTATED_SPAWNER: how the daemon starts its tests (default: its own choice). */
export function startDaemon(ns: string, conf: string, log = false, spawner?: string): ChildProcess {
  const env = spawner === undefined ? process.env : { ...process.env, MOAT_IFSTATED_SPAWNER: spawner };
  return spawn('ip', ['netns', 'exec', ns, process.execPath, moatBin, 'ifstated', '-d', '-f', conf], { stdio: ['ignore', 'ignore', log ? 'pipe' : 'ignore'], env });
}

/**
 * When `run "date -Ins"` ran, from the daemon's log of its output
 * (`output: 2026-11-30T11:35:55,123456789+00:00`). date reads
 * CLOCK_REALTIME itself once started, so the stamp is fine-grained and a
 * little late (exec and dynamic linking of date count against us), where a
 * file's mtime is taken from the coarse clock and can read up to a jiffy
 * early (4 ms at HZ=250), which made reactions look shorter than they were.
 */
export class RunStamps {
  private readonly stamps: number[] = [];
  private wake: (() => void) | undefined;

  constructor(stderr: NodeJS.ReadableStream) {
    let buf = '';
    stderr.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = /output: (\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+),(\d+)([+-])(\d+):(\d+)/.exec(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (m === null) continue;
        const n = (i: number): number => Number(m[i]);
        const offsetMs = (m[8] === '-' ? -1 : 1) * (n(9) * 60 + n(10)) * 60_000;
        this.stamps.push(Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6)) - offsetMs + Number(`0.${m[7] ?? '0'}`) * 1000);
        this.wake?.();
      }
    });
  }

  /** Forget stamps already seen. */
  clear(): void {
    this.stamps.length = 0;
  }

  /** The next stamp, in ms since the epoch. */
  async next(timeoutMs = 20_000): Promise<number> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = this.stamps.shift();
      if (s !== undefined) return s;
      if (Date.now() > until) throw new Error('timed out waiting for the run command');
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
    }
  }
}

export async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}


/**
 * Wait for a file; its mtime in ms since the epoch (ext4 and tmpfs stamp it
 * with the fine-grained clock on current kernels). inotify tells us, so the
 * bench does not spin beside the daemon it measures on a 2-core box; the
 * 50 ms poll only backs up a missed event.
 */
export async function waitForFile(path: string, timeoutMs = 20_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  const w = watch(dirname(path));
  try {
    let wake: (() => void) | undefined;
    w.on('change', () => wake?.());
    while (!existsSync(path)) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${path}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  } finally {
    w.close();
  }
  return statSync(path).mtimeMs;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/** utime+stime (self) and cutime+cstime (waited-for children), in clock ticks (USER_HZ = 100 on Linux). */
export function cpuTicks(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const n = (i: number): number => Number(f[i] ?? 0);
  // fields 14-17 of proc(5), counted from field 3 here
  return { self: n(11) + n(12), children: n(13) + n(14) };
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

/** Children of a process (Linux /proc/PID/task/TID/children). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${String(pid)}/task`)) {
      for (const c of readFileSync(`/proc/${String(pid)}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c !== '') out.push(Number(c));
    }
  } catch {
    // it exited
  }
  return out;
}

/** The command name of a process (comm). */
export function commName(pid: number): string {
  try {
    return readFileSync(`/proc/${String(pid)}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * A reference `ip -o -ts monitor link` beside the daemon: when netlink
 * delivered each link message, stamped by ip itself, so the kernel's share
 * of a reaction (linkwatch, rtnl) is told apart from the daemon's.
 */
export class ReferenceMonitor {
  private readonly child: ChildProcess;
  readonly events: { at: number; ifname: string; state: string }[] = [];

  constructor(ns: string) {
    this.child = spawn('ip', ['-n', ns, '-o', '-ts', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
  }

  // [2026-11-30T10:51:55.372368] 11: wan0@if12: <NO-CARRIER,...> ... state DOWN ...
  private parse(line: string): void {
    const m = /^\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)\]\s+\d+:\s+([^\s:@]+)[^<]*<[^>]*>.*?\bstate\s+(\S+)/.exec(line);
    if (m === null) return;
    const n = (i: number): number => Number(m[i]);
    // ip prints local time, with microseconds.
    const at = new Date(n(1), n(2) - 1, n(3), n(4), n(5), n(6)).getTime() + Number(`0.${m[7] ?? '0'}`) * 1000;
    this.events.push({ at, ifname: m[8] ?? '', state: m[9] ?? '' });
  }

  /** The first message after `since` that shows `ifname` not UP. */
  downAfter(ifname: string, since: number): number | undefined {
    return this.events.find((e) => e.at >= since && e.ifname === ifname && e.state !== 'UP')?.at;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await done;
  }
}
