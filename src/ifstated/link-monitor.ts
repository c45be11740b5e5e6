/**
 * What the Linux and BSD link monitors share: a followed monitor command
 * (ip or route monitor) for events, a periodic reconcile from the system's
 * own view (sysfs or ifconfig) for what events may have missed, and the table
 * of link states that reports each change once.
 */
import { FollowedCommand } from './followed-command.js';
import type { LinkState } from './machine.js';

export interface LinkEvent {
  ifname: string;
  state: LinkState;
}

export interface LinkMonitor {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every interface and its state, as last seen. */
  snapshot(): ReadonlyMap<string, LinkState>;
  /** Restarts of the underlying monitor (for status and metrics). */
  readonly restarts: number;
}

export interface LinkMonitorHooks {
  onLink: (e: LinkEvent) => void;
  onError: (message: string) => void;
  reconcileMs?: number;
}

export abstract class LinkMonitorBase implements LinkMonitor {
  protected readonly states = new Map<string, LinkState>();
  private readonly follower: FollowedCommand;
  private timer: NodeJS.Timeout | undefined;

  protected constructor(
    private readonly hooks: LinkMonitorHooks,
    monitor: { command: string; args: readonly string[]; label: string },
  ) {
    this.follower = new FollowedCommand({
      ...monitor,
      onLine: (line) => {
        this.onLine(line);
      },
      // Events may have been lost while the monitor was down.
      onRestart: () => {
        this.reconcileReporting();
      },
      onError: hooks.onError,
    });
  }

  /** Compare the system's own view with what we believe, and report the differences. */
  abstract reconcile(): Promise<void>;

  /** One line of the monitor command's output. */
  protected abstract onLine(line: string): void;

  get restarts(): number {
    return this.follower.restarts;
  }

  snapshot(): ReadonlyMap<string, LinkState> {
    return this.states;
  }

  protected set(name: string, state: LinkState): void {
    if (this.states.get(name) === state) return;
    this.states.set(name, state);
    this.hooks.onLink({ ifname: name, state });
  }

  protected reconcileReporting(): void {
    this.reconcile().catch((e: unknown) => {
      this.hooks.onError(`reconcile: ${String(e)}`);
    });
  }

  async start(): Promise<void> {
    this.follower.start();
    await this.reconcile();
    this.timer = setInterval(() => {
      this.reconcileReporting();
    }, this.hooks.reconcileMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.follower.stop();
  }
}
