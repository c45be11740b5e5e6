// The PF ruleset of moat portal (FreeBSD, OpenBSD): one anchor of moat's own,
// with tables, loaded by `pfctl -a ANCHOR -f -` (pfctl(8) -a, -f). The main
// pf.conf must call the anchor: OpenBSD `anchor "moat_portal"`; FreeBSD also
// `nat-anchor` and `rdr-anchor` for the translation rules.
//
// Authorised clients are addresses in the table <moat_auth>, declared with
// `persist counters` (pf.conf(5) TABLES): a login is one `pfctl -T add`, a
// logout one `-T delete` plus `pfctl -k` for its states, and the per-address
// counters give the accounting. A table declared without an address list
// keeps its contents when the anchor is loaded again (pf.conf(5) TABLES), so
// sessions survive a restart of moat and a reload of the rules.
//
// The walled garden's names: dnsmasq's ipset= option fills a PF table on
// FreeBSD and OpenBSD (dnsmasq's tables.c: DIOCRADDTABLES with
// PFR_TFLAG_PERSIST, then DIOCRADDADDRS), always in the main ruleset, never
// in an anchor. The anchor refers to that table without declaring it: a table
// an anchor only refers to stays inactive there, and PF then matches its
// namesake in the main ruleset (pf_table.c: kt->pfrkt_root).
//
// Differences from the nftables backend, because PF has no such match:
// the session is bound to interface + IP (not MAC); per-client rates are not
// expressible with one table for all clients (PF's queues and dummynet pipes
// belong to rules, not to table entries), so a login whose RADIUS reply asks
// for one is refused; volume quotas are enforced by the daemon from the
// table counters, at its check interval.

import type { PortalNetwork } from './types.js';

export type PfFlavour = 'openbsd' | 'freebsd';

export interface PfAnchorOptions extends PortalNetwork {
  flavour: PfFlavour;
  anchor: string;
  /** OpenBSD only: hand unauthorised HTTP to the portal with divert-to (the server sees the original destination) instead of rdr-to. */
  divert: boolean;
}

export const PF_AUTH_TABLE = 'moat_auth';
export const PF_GARDEN_TABLE = 'moat_garden';

/** The main-ruleset table dnsmasq fills with the addresses of garden names (at most 31 characters, PF_TABLE_NAME_SIZE). */
export function pfGardenDnsTable(anchor: string): string {
  return `${anchor}_dns`;
}

export function renderPfAnchor(o: PfAnchorOptions): string {
  const lan = o.lanInterface;
  const web = String(o.webPort);
  const dnsPorts = `{ ${String(o.dnsPort)} ${String(o.preloginDnsPort)} }`;
  const garden = [...o.gardenV4, ...o.gardenV6];
  const dns = pfGardenDnsTable(o.anchor);
  const l: string[] = [];
  l.push(`# moat portal: anchor "${o.anchor}" (${o.flavour}). Load with: pfctl -a ${o.anchor} -f -`);
  l.push(
    o.flavour === 'openbsd'
      ? `# pf.conf must call it: anchor "${o.anchor}"`
      : `# pf.conf must call it: nat-anchor "${o.anchor}", rdr-anchor "${o.anchor}", anchor "${o.anchor}"`,
  );
  l.push('');
  l.push('# Authorised clients; no address list, so a reload keeps them (pf.conf(5) TABLES).');
  l.push(`table <${PF_AUTH_TABLE}> persist counters`);
  l.push(`table <${PF_GARDEN_TABLE}> persist { ${garden.join(' ')} }`);
  l.push(`# <${dns}>: garden names' addresses, filled by dnsmasq (ipset=) in the main ruleset; not declared here.`);
  l.push('');

  // Translation: unauthorised DNS (to any address) to the pre-login resolver, HTTP to the portal.
  const fams: { af: 'inet' | 'inet6'; gw: string }[] = [{ af: 'inet', gw: o.gatewayV4 }];
  if (o.gatewayV6 !== undefined) fams.push({ af: 'inet6', gw: o.gatewayV6 });
  if (o.flavour === 'freebsd') {
    l.push('# Translation (pf.conf(5) TRANSLATION): "rdr pass" also passes the redirected packet.');
    for (const { af, gw } of fams) l.push(`rdr pass on ${lan} ${af} proto { tcp udp } from ! <${PF_AUTH_TABLE}> to any port 53 -> ${gw} port ${String(o.preloginDnsPort)}`);
    l.push(`no rdr on ${lan} proto tcp to <${dns}> port 80`);
    for (const { af, gw } of fams) l.push(`rdr pass on ${lan} ${af} proto tcp from ! <${PF_AUTH_TABLE}> to ! <${PF_GARDEN_TABLE}> port 80 -> ${gw} port ${web}`);
  } else {
    l.push('# Translation on pass rules (pf.conf(5) TRANSLATION: rdr-to, divert-to).');
    for (const { af, gw } of fams) l.push(`pass in quick on ${lan} ${af} proto { tcp udp } from ! <${PF_AUTH_TABLE}> to any port 53 rdr-to ${gw} port ${String(o.preloginDnsPort)}`);
    l.push(`pass in quick on ${lan} to <${dns}> keep state`);
    for (const { af, gw } of fams) {
      if (o.divert) {
        const local = af === 'inet' ? '127.0.0.1' : '::1';
        l.push(`pass in quick on ${lan} ${af} proto tcp from ! <${PF_AUTH_TABLE}> to ! <${PF_GARDEN_TABLE}> port 80 divert-to ${local} port ${web}`);
      } else {
        l.push(`pass in quick on ${lan} ${af} proto tcp from ! <${PF_AUTH_TABLE}> to ! <${PF_GARDEN_TABLE}> port 80 rdr-to ${gw} port ${web}`);
      }
    }
  }
  l.push('');
  l.push('# What any client may ask of the gateway itself.');
  l.push(`pass in quick on ${lan} proto udp from any port 68 to any port 67`);
  l.push(`pass in quick on ${lan} proto udp to (${lan}) port ${dnsPorts}`);
  l.push(`pass in quick on ${lan} proto tcp to (${lan}) port { ${String(o.dnsPort)} ${String(o.preloginDnsPort)} ${web} ${String(o.httpsPort)} }`);
  l.push(`pass in quick on ${lan} inet proto icmp to (${lan})`);
  if (o.gatewayV6 !== undefined) {
    l.push(`pass in quick on ${lan} inet6 proto icmp6 to { (${lan}) ff02::/16 }`);
    l.push(`pass in quick on ${lan} inet6 proto udp from any port 546 to any port 547`);
  }
  l.push('# Clients never reach each other through the gateway.');
  l.push(`block return in quick on ${lan} to (${lan}:network)`);
  l.push('# Authorised clients: everything; their states carry the table counters.');
  l.push(`pass in quick on ${lan} from <${PF_AUTH_TABLE}> to any keep state`);
  l.push('# The walled garden.');
  l.push(`pass in quick on ${lan} to <${PF_GARDEN_TABLE}> keep state`);
  if (o.flavour === 'freebsd') l.push(`pass in quick on ${lan} to <${dns}> keep state`);
  l.push('# Everything else from a client: TCP gets a reset (HTTPS and DoT fail at once), the rest is dropped.');
  l.push(`block return-rst in quick on ${lan} proto tcp`);
  l.push(`block drop in quick on ${lan}`);
  l.push('# Toward clients: only the gateway itself and replies (states); no new connections from outside.');
  l.push(`pass out quick on ${lan} from (${lan}) to any keep state`);
  l.push(`block drop out quick on ${lan}`);
  return `${l.join('\n')}\n`;
}
