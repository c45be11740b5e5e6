// Helpers for bench/ifstated.ts: namespaces, a daemon inside one, /proc sampling.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let counter = 0;
export const moatBin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'moat.js');

export function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export function ipBatch(ns: string, lines: string[]): void {
  const r = spawnSync('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip -batch: ${r.stderr.trim()}`);
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

export function startDaemon(ns: string, conf: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, moatBin, 'ifstated', '-d', '-f', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
}

export async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait for a file; its mtime in ms since the epoch. */
export async function waitForFile(path: string, timeoutMs = 20_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${path}`);
    await sleep(1);
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
