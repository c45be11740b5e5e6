// dnsmasq's lease file: one lease a line, "expiry mac ip hostname client-id"
// (dnsmasq's lease.c writes it; DHCPv6 lines follow a "duid" line and are skipped).
import { isIPv4 } from 'node:net';

export interface Lease {
  /** Seconds since the epoch; 0 for an infinite lease. */
  expires: number;
  mac: string;
  ipv4: string;
  /** `*` when the client sent none. */
  hostname: string | undefined;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** Leases in `text`; lines that are not IPv4 leases with an Ethernet MAC are ignored. At most `max` leases. */
export function parseLeases(text: string, max = 100_000): Lease[] {
  const out: Lease[] = [];
  for (const line of text.split('\n')) {
    if (out.length >= max) break;
    const [exp, mac, ip, host] = line.trim().split(/\s+/);
    if (exp === undefined || mac === undefined || ip === undefined || !/^\d{1,12}$/.test(exp) || !MAC.test(mac) || !isIPv4(ip)) continue;
    out.push({ expires: Number(exp), mac: mac.toLowerCase(), ipv4: ip, hostname: host === undefined || host === '*' ? undefined : host });
  }
  return out;
}
