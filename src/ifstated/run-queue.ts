/**
 * `run` actions, in order, one at a time: the seed's actions flush a PF
 * anchor and then load it, so order matters. ifstated.c calls system() and
 * blocks the whole daemon; here the queue runs beside the event loop, each
 * command bounded by a timeout, its output logged. The queue is bounded too:
 * a flapping link cannot pile up work without limit.
 */
import type { Logger } from '../core/index.js';
import { runCommand } from './command-runner.js';

export const MAX_QUEUED_RUNS = 256;

export class RunQueue {
  private readonly queue: { command: string; where: string }[] = [];
  private busy = false;
  private idleWaiters: (() => void)[] = [];
  started = 0;
  failed = 0;
  dropped = 0;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  get length(): number {
    return this.queue.length + (this.busy ? 1 : 0);
  }

  push(command: string, where: string): void {
    if (this.queue.length >= MAX_QUEUED_RUNS) {
      this.dropped++;
      this.logger.error('run queue full; command dropped', { command, where });
      return;
    }
    this.queue.push({ command, where });
    if (!this.busy) void this.drain();
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  clear(): void {
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      this.started++;
      this.logger.info(`running ${job.command}`, { where: job.where });
      const r = await runCommand(job.command, { timeoutMs: this.timeoutMs }).done;
      const out = r.output.trimEnd();
      if (out !== '') for (const line of out.split('\n').slice(0, 50)) this.logger.info(`output: ${line}`, { command: job.command });
      if (r.code !== 0) {
        this.failed++;
        const why = r.timedOut ? `killed after ${String(this.timeoutMs / 1000)}s timeout` : r.spawnError ?? (r.signal !== undefined ? `killed by ${r.signal}` : `exit ${String(r.code)}`);
        this.logger.warning(`command failed: ${why}`, { command: job.command });
      }
    }
    this.busy = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
