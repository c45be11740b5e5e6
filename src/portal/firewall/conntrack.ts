// Ending a client's connection-tracking entries when its session ends
// (conntrack(8)), so no connection, and no NAT binding, outlives a logout.
// The entries are first marked "ended" (conntrack -U), which the ruleset
// turns into TCP resets for both ends (nft-ruleset.ts), and deleted a few
// seconds later (conntrack -D), once the resets have had their chance.
import { isIPv6 } from 'node:net';
import { MoatError } from '../../core/errors.js';
import type { CommandRunner } from './command-runner.js';

export const FW_CONNTRACK = 'MOAT_PORTAL_FW_CONNTRACK';

/** The conntrack mark bits of the ruleset. */
export interface ConntrackMarks {
  /** Set on connections an authorised client made. */
  auth: number;
  /** Set on connections of a session that ended. */
  ended: number;
}

function family(address: string): string {
  return isIPv6(address) ? 'ipv6' : 'ipv4';
}

/**
 * The argv that marks every entry a client's address began as ended
 * (conntrack(8) -U -s). conntrack(8) --mark MARK/MASK in update mode zeroes
 * MASK's bits, then XORs MARK in: the authorised bit goes, the ended bit comes.
 * Connections begun from the other side never reach a client (the ruleset
 * resets them), so the original source is enough.
 */
export function conntrackEndArgv(conntrack: string, address: string, m: ConntrackMarks): string[] {
  return [conntrack, '-U', '-f', family(address), '-s', address, '--mark', `${String(m.ended)}/${String((m.auth | m.ended) >>> 0)}`];
}

/** The argv that deletes those entries later: only the ones still marked ended, not a new session's. */
export function conntrackDeleteArgv(conntrack: string, address: string, m: ConntrackMarks): string[] {
  return [conntrack, '-D', '-f', family(address), '-s', address, '--mark', `${String(m.ended)}/${String(m.ended)}`];
}

/** The argv that deletes every entry still marked ended, of any address: what a crash left before its deletions ran. */
export function conntrackSweepArgv(conntrack: string, fam: 'ipv4' | 'ipv6', m: ConntrackMarks): string[] {
  return [conntrack, '-D', '-f', fam, '--mark', `${String(m.ended)}/${String(m.ended)}`];
}

/**
 * Runs conntrack(8) a few at a time: each call walks the whole table, and a
 * mass logout must not start thousands of processes at once.
 */
export class ConntrackFlusher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly later = new Set<NodeJS.Timeout>();

  constructor(
    private readonly runner: CommandRunner,
    private readonly conntrack: string,
    private readonly marks: ConntrackMarks,
    /** How long ended entries stay before they are deleted. */
    private readonly graceMs = 10_000,
    private readonly parallel = 4,
    private readonly onLateError: (message: string) => void = () => undefined,
  ) {}

  /** Mark the addresses' entries ended now; delete them after the grace time. */
  async end(addresses: readonly string[]): Promise<void> {
    const results = await Promise.all(addresses.map((a) => this.one(conntrackEndArgv(this.conntrack, a, this.marks))));
    const timer = setTimeout(() => {
      this.later.delete(timer);
      void Promise.all(addresses.map((a) => this.one(conntrackDeleteArgv(this.conntrack, a, this.marks)))).then((r) => {
        const bad = r.find((x) => x !== undefined);
        if (bad !== undefined) this.onLateError(bad);
      });
    }, this.graceMs);
    timer.unref();
    this.later.add(timer);
    const bad = results.find((r) => r !== undefined);
    if (bad !== undefined) throw new MoatError(FW_CONNTRACK, `conntrack -U failed: ${bad}`);
  }

  /** Delete every entry marked ended (at start: a daemon killed within the grace time left some). */
  async sweep(): Promise<void> {
    const r = await Promise.all((['ipv4', 'ipv6'] as const).map((f) => this.one(conntrackSweepArgv(this.conntrack, f, this.marks))));
    const bad = r.find((x) => x !== undefined);
    if (bad !== undefined) throw new MoatError(FW_CONNTRACK, `conntrack -D failed: ${bad}`);
  }

  /** Forget the pending deletions (the marked entries stay dead and age out). */
  close(): void {
    for (const t of this.later) clearTimeout(t);
    this.later.clear();
  }

  private async one(argv: string[]): Promise<string | undefined> {
    if (this.running >= this.parallel) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      const r = await this.runner.run(argv);
      // conntrack(8) says "0 flow entries have been updated/deleted" (and may exit 1) when nothing matched: not an error here.
      if (r.code !== 0 && !/\b0 flow entries/.test(r.stderr)) return r.stderr.trim().slice(0, 500);
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
