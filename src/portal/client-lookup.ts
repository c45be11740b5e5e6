// The web server sees only the client's IP address; sessions are bound to
// interface + MAC + IP. The MAC comes from the kernel's neighbour table
// (/proc/net/arp on Linux, `arp -an` elsewhere) and, failing that, from the
// DHCP leases dnsmasq writes.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import type { ClientKey } from './ports.js';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** /proc/net/arp flags: ATF_COM (0x2), the entry is complete. */
const ATF_COM = 0x2;

export interface Neighbour {
  ip: string;
  mac: string;
  ifname: string;
}

/** Parse /proc/net/arp: `IP address  HW type  Flags  HW address  Mask  Device`. */
export function parseProcArp(text: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [ip, , flags, mac, , dev] = line.trim().split(/\s+/);
    if (ip === undefined || mac === undefined || dev === undefined || flags === undefined) continue;
    if ((Number.parseInt(flags, 16) & ATF_COM) === 0 || !MAC.test(mac) || mac === '00:00:00:00:00:00') continue;
    out.push({ ip, mac, ifname: dev });
  }
  return out;
}

/** Parse `arp -an` (FreeBSD, OpenBSD): `? (10.1.0.10) at 02:00:00:00:00:01 on em1 ...`. */
export function parseArpAn(text: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const m of text.matchAll(/\((\d+\.\d+\.\d+\.\d+)\) at ([0-9a-f:]{17}) on (\S+)/gi)) {
    const [, ip = '', mac = '', ifname = ''] = m;
    out.push({ ip, mac: mac.toLowerCase(), ifname });
  }
  return out;
}

/** dnsmasq's lease file: `expiry mac ip hostname client-id` per line. */
export function parseLeases(text: string, ifname: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const line of text.split('\n')) {
    const [, mac, ip] = line.trim().split(/\s+/);
    if (mac !== undefined && ip !== undefined && MAC.test(mac.toLowerCase()) && isIPv4(ip)) out.push({ ip, mac: mac.toLowerCase(), ifname });
  }
  return out;
}

/** `ip -6 -j neigh`: MAC → global addresses (link-local ones are never forwarded; failed and incomplete entries prove nothing). */
export function parseIpNeighJson(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let list: unknown;
  try {
    list = JSON.parse(text === '' ? '[]' : text);
  } catch {
    return out;
  }
  if (!Array.isArray(list)) return out;
  for (const n of list as { dst?: unknown; lladdr?: unknown; state?: unknown }[]) {
    const states = Array.isArray(n.state) ? n.state.map(String) : [];
    const mac = typeof n.lladdr === 'string' ? n.lladdr.toLowerCase() : '';
    if (typeof n.dst !== 'string' || !MAC.test(mac) || !isIPv6(n.dst)) continue;
    if (/^fe[89ab]/i.test(n.dst) || states.includes('FAILED') || states.includes('INCOMPLETE')) continue;
    const list6 = out.get(mac) ?? [];
    if (list6.length < 16) list6.push(n.dst.toLowerCase());
    out.set(mac, list6);
  }
  return out;
}

export class ClientLookup {
  constructor(
    private readonly ifname: string,
    private readonly leaseFile: string | undefined,
  ) {}

  /** Every neighbour on the client interface. */
  async neighbours(): Promise<Neighbour[]> {
    let list: Neighbour[];
    if (process.platform === 'linux') {
      list = parseProcArp(await readFile('/proc/net/arp', 'utf8').catch(() => ''));
    } else {
      list = parseArpAn(await run('arp', ['-an']));
    }
    return list.filter((n) => n.ifname === this.ifname);
  }

  /**
   * The global IPv6 addresses this MAC uses on the interface, from the
   * kernel's neighbour table (`ip -6 -j neigh`): link-local ones are not
   * forwarded anyway. Linux only; elsewhere none.
   */
  async ipv6Of(mac: string): Promise<string[]> {
    return (await this.ipv6Neighbours()).get(mac) ?? [];
  }

  /** Every MAC's global IPv6 addresses on the interface, from one `ip -6 -j neigh` (at most 16 each). */
  async ipv6Neighbours(): Promise<Map<string, string[]>> {
    if (process.platform !== 'linux') return new Map();
    return parseIpNeighJson(await run('ip', ['-6', '-j', 'neigh', 'show', 'dev', this.ifname]));
  }

  async lookup(ip: string): Promise<ClientKey | undefined> {
    const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    if (!isIPv4(plain)) return undefined;
    const hit = (await this.neighbours()).find((n) => n.ip === plain);
    if (hit !== undefined) return { ifname: this.ifname, mac: hit.mac, ipv4: plain };
    if (this.leaseFile !== undefined) {
      const leases = parseLeases(await readFile(this.leaseFile, 'utf8').catch(() => ''), this.ifname);
      const lease = leases.find((n) => n.ip === plain);
      if (lease !== undefined) return { ifname: this.ifname, mac: lease.mac, ipv4: plain };
    }
    return undefined;
  }
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000, maxBuffer: 4 << 20 }, (err, stdout) => {
      resolve(err === null ? stdout : '');
    });
  });
}
