// Walled-garden entries: addresses or networks, checked and split by family.
import { isIPv4, isIPv6 } from 'node:net';
import { MoatError } from '../../core/errors.js';

export const FW_CONFIG = 'MOAT_PORTAL_FW_CONFIG';

export function configError(message: string): MoatError {
  return new MoatError(FW_CONFIG, message);
}

/** Split garden entries (a.b.c.d[/n], IPv6[/n]) into v4 and v6, each checked. */
export function splitGarden(list: Iterable<string>): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const entry of list) {
    const [addr = '', bits, extra] = entry.split('/');
    const max = isIPv4(addr) ? 32 : isIPv6(addr) && !addr.includes('%') ? 128 : -1;
    if (extra !== undefined || max < 0 || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
      throw configError(`bad garden address: ${JSON.stringify(entry)}`);
    }
    (max === 32 ? v4 : v6).push(max === 32 ? entry : entry.toLowerCase());
  }
  return { v4, v6 };
}
