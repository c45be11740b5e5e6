/**
 * A long-running monitor command whose output lines we follow: `ip -o
 * monitor link` on Linux, `route -n monitor` on the BSDs. If it exits it is
 * started again after a pause (so a missing binary cannot spin the daemon),
 * and `onRestart` runs, because events may have been lost while it was down.
 * No shell: the command and its arguments are passed as argv.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface FollowedCommandOptions {
  command: string;
  args: readonly string[];
  /** How messages name it, e.g. "ip monitor". */
  label: string;
  onLine: (line: string) => void;
  onRestart: () => void;
  onError: (message: string) => void;
  restartDelayMs?: number;
}

export class FollowedCommand {
  /** Times the command exited and was started again. */
  restarts = 0;
  private child: ChildProcess | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FollowedCommandOptions) {}

  start(): void {
    if (this.stopped) return;
    const o = this.options;
    const child = spawn(o.command, [...o.args], { stdio: ['ignore', 'pipe', 'ignore'], shell: false });
    this.child = child;
    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
    rl.on('line', o.onLine);
    child.once('error', (e) => {
      o.onError(`${o.label}: ${e.message}`);
    });
    child.once('close', () => {
      rl.close();
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      this.restarts++;
      o.onError(`${o.label} exited; restarting it`);
      this.restartTimer = setTimeout(() => {
        this.start();
        o.onRestart();
      }, o.restartDelayMs ?? 1000);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child?.exitCode === null && child.signalCode === null) {
      // Wait for the exit, not for the pipe: a grandchild could hold it open.
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    child?.stdout?.destroy();
  }
}
