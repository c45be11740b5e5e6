// Deleting a client's connection-tracking entries when its session ends
// (conntrack(8) -D), so no connection, and no NAT binding, outlives a logout.
import { isIPv6 } from 'node:net';
import { MoatError } from '../../core/errors.js';
import { EX_UNAVAILABLE } from '../../core/exit-codes.js';
import type { CommandRunner } from './command-runner.js';

export const FW_CONNTRACK = 'MOAT_PORTAL_FW_CONNTRACK';

/** The argv lists that delete every entry from or to one address. */
export function conntrackArgv(conntrack: string, address: string): string[][] {
  const family = isIPv6(address) ? 'ipv6' : 'ipv4';
  return [
    [conntrack, '-D', '-f', family, '-s', address],
    [conntrack, '-D', '-f', family, '-d', address],
  ];
}

export async function flushConntrack(runner: CommandRunner, conntrack: string, addresses: readonly string[]): Promise<void> {
  const runs = addresses.flatMap((a) => conntrackArgv(conntrack, a)).map((argv) => runner.run(argv));
  const results = await Promise.all(runs);
  for (const r of results) {
    // conntrack(8) exits 1 with "0 flow entries have been deleted" when nothing matched: not an error here.
    if (r.code !== 0 && !/0 flow entries/.test(r.stderr)) {
      throw new MoatError(FW_CONNTRACK, `conntrack -D failed: ${r.stderr.trim().slice(0, 500)}`, { exitCode: EX_UNAVAILABLE });
    }
  }
}
