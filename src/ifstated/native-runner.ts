/**
 * Starts test commands with posix_spawn(3) through moat's native addon.
 * glibc and FreeBSD's libc spawn with vfork semantics: the child shares the
 * daemon's memory until it execs, so no page tables are copied, which is what
 * makes Node's fork()+exec() of a 60 MB daemon expensive, and no helper
 * process is needed (perl's forks are cheap, but the helper costs CPU of its
 * own, and perl is not in FreeBSD's base system).
 *
 * Each command leads a new process group (POSIX_SPAWN_SETPGROUP), so a
 * timeout kills what it started too; stdio is /dev/null; argv goes to
 * execve(2) as it is, commandArgv() having decided when `/bin/sh -c` is needed.
 *
 * Reaping never blocks: on SIGCHLD each running command is asked with
 * waitid(WNOHANG|WNOWAIT) whether it ended. One that did stays a zombie while
 * its group is sent SIGKILL (stragglers it left behind), so its pid, which is
 * also the group's id, cannot have been reused by then; only then is it
 * reaped. A SIGCHLD listener changes nothing else in the process (SIGCHLD's
 * default action is to ignore it, and libuv reaps only its own children by
 * pid); it is added before the first spawn, so no child's end goes unseen,
 * and removed by close().
 */
import { constants as osConstants } from 'node:os';
import { errnoReason, type NativeAddon } from '../core/index.js';
import { EXIT_NOT_RUN, type RunResult, type Running } from './command-runner.js';

const SWEEP_MS = 1000;

const signalNames = new Map<number, string>(Object.entries(osConstants.signals).map(([name, n]) => [n, name]));

interface Child {
  start: number;
  timer: NodeJS.Timeout;
  timedOut: boolean;
  resolve: (r: RunResult) => void;
}

export class NativeRunner {
  private readonly children = new Map<number, Child>();
  private listening = false;
  private sweep: NodeJS.Timeout | undefined;
  /** close() was called: stop listening once the last command is reaped. */
  private closing = false;
  private readonly onChild = (): void => {
    this.check();
  };

  constructor(private readonly addon: NativeAddon) {}

  /** How many commands are running. */
  get running(): number {
    return this.children.size;
  }

  run(argv: readonly string[], timeoutMs: number): Running {
    const start = performance.now();
    this.closing = false;
    if (!this.listening) {
      process.on('SIGCHLD', this.onChild);
      this.listening = true;
    }
    let pid: number;
    try {
      pid = this.addon.spawn(argv[0] ?? '/bin/sh', argv);
    } catch (e) {
      // posix_spawn reports a failed exec itself (ENOENT, EACCES...), the
      // child already reaped: the command did not run, as sh's 127 says.
      const done = Promise.resolve<RunResult>({ code: EXIT_NOT_RUN, signal: undefined, timedOut: false, spawnError: `cannot run ${argv[0] ?? ''}: ${errnoReason(e)}`, durationMs: performance.now() - start, output: '' });
      return { pid: undefined, done, kill: () => undefined };
    }
    const done = new Promise<RunResult>((resolve) => {
      const timer = setTimeout(() => {
        const c = this.children.get(pid);
        if (c === undefined) return;
        c.timedOut = true;
        killGroup(pid);
      }, timeoutMs);
      timer.unref();
      this.children.set(pid, { start, timer, timedOut: false, resolve });
      // While commands run, a referenced timer keeps the event loop alive, as
      // a child_process does (a signal listener does not), and checks once a
      // second besides SIGCHLD, so that no end can go unseen for long.
      this.sweep ??= setInterval(() => {
        this.check();
      }, SWEEP_MS);
    });
    return {
      pid,
      done,
      kill: () => {
        if (this.children.has(pid)) killGroup(pid);
      },
    };
  }

  /** Settle every command that has ended. */
  check(): void {
    for (const [pid, c] of this.children) {
      let status;
      try {
        if (!this.addon.exited(pid)) continue;
        // Still a zombie: the group id is ours alone until the reap below.
        killGroup(pid);
        status = this.addon.reap(pid);
      } catch (e) {
        // ECHILD: someone else reaped it (a waitpid(-1) elsewhere in the process).
        this.settle(pid, c, { code: undefined, signal: undefined, spawnError: `lost track of pid ${String(pid)}: ${errnoReason(e)}` });
        continue;
      }
      if (status === undefined) continue;
      const signal = status.signal === undefined ? undefined : (signalNames.get(status.signal) ?? `signal ${String(status.signal)}`);
      this.settle(pid, c, { code: status.code, signal, spawnError: undefined });
    }
    if (this.children.size === 0 && this.sweep !== undefined) {
      clearInterval(this.sweep);
      this.sweep = undefined;
    }
    if (this.closing && this.children.size === 0 && this.listening) {
      process.removeListener('SIGCHLD', this.onChild);
      this.listening = false;
    }
  }

  private settle(pid: number, c: Child, r: Pick<RunResult, 'code' | 'signal' | 'spawnError'>): void {
    this.children.delete(pid);
    clearTimeout(c.timer);
    c.resolve({ ...r, timedOut: c.timedOut, durationMs: performance.now() - c.start, output: '' });
  }

  /** Kill every running command's group and stop listening once they are reaped. */
  close(): void {
    this.closing = true;
    for (const pid of this.children.keys()) killGroup(pid);
    this.check();
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already empty (ESRCH).
  }
}
