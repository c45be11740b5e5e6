// moat portal's firewall: nftables on Linux, PF on FreeBSD/OpenBSD.
import { configError, splitGarden } from './garden.js';
import { checkIfname, checkIpv4, checkIpv6 } from './client-key.js';
import { spawnRunner, type CommandRunner } from './command-runner.js';
import { NftFirewall } from './nft-firewall.js';
import { PfFirewall } from './pf-firewall.js';
import type { Firewall, FirewallLogger } from './types.js';

export type { ClientLimits, FirewallClient } from './client-key.js';
export { FW_BAD_CLIENT } from './client-key.js';
export type { AuthorizedClient, ClientCounters, Firewall, FirewallLogger } from './types.js';
export { spawnRunner, FW_EXEC, type CommandRunner, type RunOutput } from './command-runner.js';
export { FW_NFT } from './nft-batcher.js';
export { FW_CONNTRACK } from './conntrack.js';
export { NftFirewall } from './nft-firewall.js';
export { FW_PFCTL, FW_UNSUPPORTED, PfFirewall, parsePfTableStats, pfGardenDnsTable, pfArgv, renderPfAnchor, type PfAddressStats, type PfAnchorOptions, type PfFlavour, type PfOptions } from './pf-firewall.js';

export { FW_CONFIG, splitGarden } from './garden.js';

export interface FirewallOptions {
  backend: 'nft' | 'pf';
  /** nft table name, or PF anchor name. */
  table?: string;
  lanInterface: string;
  gatewayV4: string;
  prefixV4: number;
  gatewayV6?: string | undefined;
  /** Unauthorised HTTP is redirected here. */
  webPort: number;
  /** The portal's HTTPS (RFC 8908 API); reachable before login. */
  httpsPort: number;
  /** The full resolver on the gateway; default 53. */
  dnsPort?: number;
  /** The pre-login resolver; unauthorised DNS (port 53, to any address) is redirected here. */
  preloginDnsPort: number;
  /** Walled garden addresses or networks (a.b.c.d[/n], IPv6[/n]). */
  gardenAddresses?: readonly string[];
  /** Masquerade the clients' IPv4 network out of this interface. */
  wanInterface?: string | undefined;
  /** nftables: the packet and conntrack mark bit that means "authorised"; default 0x20000000. */
  markBit?: number;
  /** nftables: how long an ended session's conntrack entries stay (marked, so both ends get resets) before they are deleted; default 10 s. */
  conntrackGraceMs?: number;
  logger?: FirewallLogger;
  /** How commands run; default spawns them directly. */
  runner?: CommandRunner;
  nft?: string;
  conntrack?: string;
  /** nftables: pin each authorised address to its MAC in the neighbour table (ip neigh ... nud permanent); default true. */
  pinNeighbours?: boolean;
  ip?: string;
  pfctl?: string;
  /** PF: OpenBSD (rdr-to/divert-to on pass rules) or FreeBSD (rdr rules); default from the running OS, else openbsd. */
  pfFlavour?: 'openbsd' | 'freebsd';
  /** PF on OpenBSD: divert-to 127.0.0.1 for unauthorised HTTP instead of rdr-to. */
  pfDivert?: boolean;
}


export function createFirewall(o: FirewallOptions): Firewall {
  const port = (p: number, what: string): number => {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw configError(`${what} must be a port 1..65535`);
    return p;
  };
  const table = o.table ?? 'moat_portal';
  if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(table)) throw configError(`bad table name: ${JSON.stringify(table)}`);
  if (!Number.isInteger(o.prefixV4) || o.prefixV4 < 8 || o.prefixV4 > 30) throw configError('prefixV4 must be 8..30');
  const garden = splitGarden(o.gardenAddresses ?? []);
  const markBit = o.markBit ?? 0x20000000;
  if (!Number.isInteger(markBit) || markBit <= 0 || markBit > 0x80000000 || (markBit & (markBit - 1)) !== 0) throw configError('markBit must be one bit');
  const common = {
    table,
    lanInterface: checkIfname(o.lanInterface),
    gatewayV4: checkIpv4(o.gatewayV4),
    prefixV4: o.prefixV4,
    gatewayV6: o.gatewayV6 === undefined ? undefined : checkIpv6(o.gatewayV6),
    webPort: port(o.webPort, 'webPort'),
    httpsPort: port(o.httpsPort, 'httpsPort'),
    dnsPort: port(o.dnsPort ?? 53, 'dnsPort'),
    preloginDnsPort: port(o.preloginDnsPort, 'preloginDnsPort'),
    gardenV4: garden.v4,
    gardenV6: garden.v6,
    wanInterface: o.wanInterface === undefined ? undefined : checkIfname(o.wanInterface),
    logger: o.logger,
    runner: o.runner ?? spawnRunner(),
  };
  if (o.backend === 'pf') {
    const flavour = o.pfFlavour ?? (process.platform === 'freebsd' ? 'freebsd' : 'openbsd');
    return new PfFirewall({ ...common, flavour, divert: o.pfDivert ?? false, pfctl: o.pfctl ?? '/sbin/pfctl' });
  }
  return new NftFirewall({ ...common, markBit, ...(o.conntrackGraceMs === undefined ? {} : { conntrackGraceMs: o.conntrackGraceMs }), nft: o.nft ?? 'nft', conntrack: o.conntrack ?? 'conntrack', ip: o.pinNeighbours === false ? undefined : (o.ip ?? 'ip') });
}
