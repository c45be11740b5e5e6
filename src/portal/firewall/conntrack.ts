// Deleting a client's connection-tracking entries when its session ends
// (conntrack(8) -D), so no connection, and no NAT binding, outlives a logout.
import { isIPv6 } from 'node:net';
import { MoatError } from '../../core/errors.js';
import type { CommandRunner } from './command-runner.js';

export const FW_CONNTRACK = 'MOAT_PORTAL_FW_CONNTRACK';

/**
 * The argv that deletes every entry a client's address began (conntrack(8)
 * -D -s). Connections begun from the other side never reach a client (the
 * ruleset resets them), so the original source is enough.
 */
export function conntrackArgv(conntrack: string, address: string): string[] {
  return [conntrack, '-D', '-f', isIPv6(address) ? 'ipv6' : 'ipv4', '-s', address];
}

/**
 * Runs flushes a few at a time: each conntrack(8) -D walks the whole table,
 * and a mass logout must not start thousands of processes at once.
 */
export class ConntrackFlusher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly runner: CommandRunner,
    private readonly conntrack: string,
    private readonly parallel = 4,
  ) {}

  async flush(addresses: readonly string[]): Promise<void> {
    const results = await Promise.all(addresses.map((a) => this.one(a)));
    const bad = results.find((r) => r !== undefined);
    if (bad !== undefined) throw new MoatError(FW_CONNTRACK, `conntrack -D failed: ${bad}`);
  }

  private async one(address: string): Promise<string | undefined> {
    if (this.running >= this.parallel) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      const r = await this.runner.run(conntrackArgv(this.conntrack, address));
      // conntrack(8) says "0 flow entries have been deleted" (and may exit 1) when nothing matched: not an error here.
      if (r.code !== 0 && !/\b0 flow entries/.test(r.stderr)) return r.stderr.trim().slice(0, 500);
      return undefined;
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
