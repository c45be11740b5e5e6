// What identifies an authorised client in the firewall: the interface it is
// on, its MAC and its addresses. Every value is checked here before it goes
// into an nft batch or a pfctl argv, so nothing a client controls (a DHCP
// hostname, an HTTP header) can reach those languages unchecked.
import { isIPv4, isIPv6 } from 'node:net';
import { MoatError } from '../../core/errors.js';

/** A client as the daemon knows it. */
export interface FirewallClient {
  ifname: string;
  /** Any case, `:` or `-` separated; stored lower case with `:`. */
  mac: string;
  ipv4?: string | undefined;
  ipv6?: readonly string[] | undefined;
}

/** What the kernel enforces for one client. Rates in bit/s, volumes in bytes. */
export interface ClientLimits {
  bandwidthUp?: number | undefined;
  bandwidthDown?: number | undefined;
  /** Both directions together (ChilliSpot-Max-Total-Octets). */
  quotaBytes?: bigint | undefined;
  /** From the client (ChilliSpot-Max-Input-Octets). */
  quotaUp?: bigint | undefined;
  /** To the client (ChilliSpot-Max-Output-Octets). */
  quotaDown?: bigint | undefined;
  /** The kernel drops the client's elements after this many seconds (a safety net under Session-Timeout). */
  timeoutSec?: number | undefined;
}

/** A client after checking: canonical spellings. */
export interface CheckedClient {
  readonly ifname: string;
  readonly mac: string;
  readonly ipv4: string | undefined;
  readonly ipv6: readonly string[];
  /** Part of object names: `<mac hex>_<ifname>`. */
  readonly id: string;
}

/** ip-link(8)/ifconfig(8) interface names; IFNAMSIZ is 16 with the NUL. */
const IFNAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
const MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

export const FW_BAD_CLIENT = 'MOAT_PORTAL_FW_BAD_CLIENT';

function bad(message: string): MoatError {
  return new MoatError(FW_BAD_CLIENT, message);
}

export function checkIfname(name: string): string {
  if (!IFNAME.test(name)) throw bad(`bad interface name: ${JSON.stringify(name)}`);
  return name;
}

export function checkMac(mac: string): string {
  if (!MAC.test(mac)) throw bad(`bad MAC address: ${JSON.stringify(mac)}`);
  return mac.toLowerCase().replace(/-/g, ':');
}

export function checkIpv4(a: string): string {
  if (!isIPv4(a)) throw bad(`bad IPv4 address: ${JSON.stringify(a)}`);
  return a;
}

/** IPv6 without a zone (a zone is meaningless in a set key). */
export function checkIpv6(a: string): string {
  if (!isIPv6(a) || a.includes('%')) throw bad(`bad IPv6 address: ${JSON.stringify(a)}`);
  return a.toLowerCase();
}

/** Part of a client's object names: `<mac hex>_<ifname>` (nft names allow letters, digits and _). */
export function clientId(mac: string, ifname: string): string {
  return `${mac.replace(/:/g, '')}_${ifname.replace(/[.-]/g, '_')}`;
}

export function checkClient(c: FirewallClient): CheckedClient {
  const ifname = checkIfname(c.ifname);
  const mac = checkMac(c.mac);
  const ipv4 = c.ipv4 === undefined ? undefined : checkIpv4(c.ipv4);
  const ipv6 = (c.ipv6 ?? []).map(checkIpv6);
  if (ipv4 === undefined && ipv6.length === 0) throw bad(`client ${mac} has no address`);
  if (ipv6.length > 64) throw bad(`client ${mac} has more than 64 IPv6 addresses`);
  return { ifname, mac, ipv4, ipv6: [...new Set(ipv6)], id: clientId(mac, ifname) };
}

/** Largest rate we accept: 100 Gbit/s. */
const MAX_RATE = 100e9;

export function checkLimits(l: ClientLimits): ClientLimits {
  for (const [k, v] of [['bandwidthUp', l.bandwidthUp], ['bandwidthDown', l.bandwidthDown]] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v < 8 || v > MAX_RATE)) throw bad(`${k} must be 8..${String(MAX_RATE)} bit/s, not ${String(v)}`);
  }
  for (const [k, v] of [['quotaBytes', l.quotaBytes], ['quotaUp', l.quotaUp], ['quotaDown', l.quotaDown]] as const) {
    if (v !== undefined && (v < 1n || v >= 1n << 63n)) throw bad(`${k} must be 1..2^63-1 bytes, not ${String(v)}`);
  }
  if (l.timeoutSec !== undefined && (!Number.isInteger(l.timeoutSec) || l.timeoutSec < 1 || l.timeoutSec > 366 * 86400)) {
    throw bad(`timeoutSec must be 1..${String(366 * 86400)} seconds`);
  }
  return l;
}
