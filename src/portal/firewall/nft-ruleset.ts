// The nftables ruleset of moat portal: one `inet` table of moat's own, so
// IPv4 and IPv6 obey the same rules (nft(8) "ADDRESS FAMILIES": inet).
//
// Authorised clients are set elements, never rules:
//   up4/up6     iifname . ether saddr . ip(6) saddr   counted at prerouting (from the client)
//   down4/down6 oifname . ip(6) daddr                  counted at postrouting (to the client)
// Each set carries a per-element counter (nft(8) "SETS": counter), and is
// looked up exactly once per packet, because every matching lookup adds to the
// element's counter. The prerouting lookup sets a mark bit; nat and forward
// decide on that bit, never by a second lookup. Download packets are let
// through by a conntrack mark set when the client's own packets were forwarded,
// so their decision needs no lookup either; the conntrack entries of a client
// are deleted when its session ends.
//
// When a session ends its conntrack entries are not deleted at once but
// marked "ended" (a second mark bit). A client that only receives (a
// download) sends nothing until something reaches it, so it would never learn
// that its connections are dead: the far end's next segment is passed on with
// its sequence number moved half the sequence space away, which the client's
// TCP discards and answers with a duplicate ACK (RFC 793 §3.9 "SEGMENT
// ARRIVES", RFC 5961 §4). That ACK is answered with `reject with tcp reset`,
// whose sequence number is the ACK's acknowledgment number, exactly what the
// client expects (RFC 5961 §3.2), so its socket fails with ECONNRESET. The
// client's own RSTs on ended connections go out, so the far end learns too.
// The marked entries are deleted a little later (conntrack.ts).
//
// Bandwidth limits and quotas are named limit/quota objects reached through
// object maps keyed like the sets (nft(8) "STATEFUL OBJECTS", "MAPS"), so one
// client's rate can change (CoA) without touching any rule.
import type { CheckedClient, ClientLimits } from './client-key.js';
import type { PortalNetwork } from './types.js';

export interface NftRulesetOptions extends PortalNetwork {
  table: string;
  prefixV4: number;
  wanInterface: string | undefined;
  markBit: number;
}

/** The sets and maps, with the key each one uses; the same list drives rendering, reading back and restoring. */
export const KEY_UP4 = 'ifname . ether_addr . ipv4_addr';
export const KEY_UP6 = 'ifname . ether_addr . ipv6_addr';
export const KEY_DN4 = 'ifname . ipv4_addr';
export const KEY_DN6 = 'ifname . ipv6_addr';

export interface SetSpec {
  name: string;
  key: string;
  /** Data type for object maps. */
  map?: 'limit' | 'quota';
  counter: boolean;
}

export const CLIENT_SETS: readonly SetSpec[] = [
  { name: 'up4', key: KEY_UP4, counter: true },
  { name: 'down4', key: KEY_DN4, counter: true },
  { name: 'up6', key: KEY_UP6, counter: true },
  { name: 'down6', key: KEY_DN6, counter: true },
  // Rate limits (WISPr-Bandwidth-Max-Up/Down).
  { name: 'lim_up4', key: KEY_UP4, map: 'limit', counter: false },
  { name: 'lim_dn4', key: KEY_DN4, map: 'limit', counter: false },
  { name: 'lim_up6', key: KEY_UP6, map: 'limit', counter: false },
  { name: 'lim_dn6', key: KEY_DN6, map: 'limit', counter: false },
  // Volume quotas: per direction (Max-Input/Output-Octets) and total (Max-Total-Octets, one object in both directions).
  { name: 'q_up4', key: KEY_UP4, map: 'quota', counter: false },
  { name: 'q_dn4', key: KEY_DN4, map: 'quota', counter: false },
  { name: 'q_up6', key: KEY_UP6, map: 'quota', counter: false },
  { name: 'q_dn6', key: KEY_DN6, map: 'quota', counter: false },
  { name: 'qt_up4', key: KEY_UP4, map: 'quota', counter: false },
  { name: 'qt_dn4', key: KEY_DN4, map: 'quota', counter: false },
  { name: 'qt_up6', key: KEY_UP6, map: 'quota', counter: false },
  { name: 'qt_dn6', key: KEY_DN6, map: 'quota', counter: false },
];

/** The conntrack mark bit of connections whose session ended: the bit below `markBit` (above it for bit 0). */
export function endedBit(markBit: number): number {
  return markBit === 1 ? 2 : markBit >>> 1;
}

export function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** nft quotes strings with double quotes; interface names are checked to hold none. */
export function q(s: string): string {
  return `"${s}"`;
}

export function setDeclaration(s: SetSpec): string {
  const kind = s.map === undefined ? 'set' : 'map';
  const type = s.map === undefined ? s.key : `${s.key} : ${s.map}`;
  return `\t${kind} ${s.name} {\n\t\ttype ${type}\n\t\tflags timeout\n${s.counter ? '\t\tcounter\n' : ''}\t}\n`;
}

/** The declarations that hold state (sets, maps, garden sets): `add`ed, never flushed, on a re-apply. */
export function renderSetDeclarations(): string {
  let out = '';
  for (const s of CLIENT_SETS) out += setDeclaration(s);
  // Walled garden: dnsmasq adds the addresses its garden names resolve to (dnsmasq(8) --nftset).
  out += '\tset garden4 {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}\n';
  out += '\tset garden6 {\n\t\ttype ipv6_addr\n\t\tflags timeout\n\t}\n';
  // Addresses from the configuration: refilled on every apply.
  out += '\tset garden_static4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t}\n';
  out += '\tset garden_static6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\tauto-merge\n\t}\n';
  return out;
}

export const CHAINS = ['prerouting', 'dstnat', 'input', 'forward', 'from_lan', 'unauth_out', 'to_lan', 'unauth_in', 'ended_in', 'postrouting', 'srcnat'] as const;

/** The chains: base chains with their hooks, and the regular chains they jump to. */
export function renderChainDeclarations(): string {
  return [
    '\tchain prerouting {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n\t}\n',
    '\tchain dstnat {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t}\n',
    '\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n',
    '\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n',
    '\tchain from_lan {\n\t}\n',
    '\tchain unauth_out {\n\t}\n',
    '\tchain to_lan {\n\t}\n',
    '\tchain unauth_in {\n\t}\n',
    '\tchain ended_in {\n\t}\n',
    '\tchain postrouting {\n\t\ttype filter hook postrouting priority filter; policy accept;\n\t}\n',
    '\tchain srcnat {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t}\n',
  ].join('');
}

/** The rules of every chain, as `add rule` commands (after `flush chain`). */
export function renderRules(o: NftRulesetOptions): string[] {
  const t = `inet ${o.table}`;
  const lan = q(o.lanInterface);
  const auth = hex(o.markBit);
  const notAuth = hex(~o.markBit >>> 0);
  const ended = hex(endedBit(o.markBit));
  const r: string[] = [];
  const add = (chain: string, rule: string): void => {
    r.push(`add rule ${t} ${chain} ${rule}`);
  };
  const v6 = o.gatewayV6 !== undefined;

  // prerouting (mangle): the one lookup of up4/up6, which counts the packet and marks it authorised.
  add('prerouting', `iifname != ${lan} return`);
  add('prerouting', `meta mark set meta mark & ${notAuth}`);
  add('prerouting', `meta nfproto ipv4 iifname . ether saddr . ip saddr @up4 meta mark set meta mark | ${auth}`);
  add('prerouting', `meta nfproto ipv6 iifname . ether saddr . ip6 saddr @up6 meta mark set meta mark | ${auth}`);

  // dstnat: unauthorised DNS goes to the pre-login resolver, HTTP to the portal.
  add('dstnat', `iifname != ${lan} return`);
  add('dstnat', `meta mark & ${auth} == ${auth} return`);
  // dnat to the gateway's own address, not redirect: the pre-login resolver listens there, whichever address the interface lists first.
  const pre = String(o.preloginDnsPort);
  add('dstnat', `meta nfproto ipv4 meta l4proto { tcp, udp } th dport 53 dnat ip to ${o.gatewayV4}:${pre}`);
  if (o.gatewayV6 !== undefined) add('dstnat', `meta nfproto ipv6 meta l4proto { tcp, udp } th dport 53 dnat ip6 to [${o.gatewayV6}]:${pre}`);
  else add('dstnat', `meta nfproto ipv6 meta l4proto { tcp, udp } th dport 53 redirect to :${pre}`);
  add('dstnat', 'ip daddr @garden4 return');
  add('dstnat', 'ip daddr @garden_static4 return');
  add('dstnat', 'ip6 daddr @garden6 return');
  add('dstnat', 'ip6 daddr @garden_static6 return');
  add('dstnat', `tcp dport 80 redirect to :${String(o.webPort)}`);

  // input: what a client may ask of the gateway itself, logged in or not.
  add('input', `iifname != ${lan} return`);
  add('input', 'ct state established,related accept');
  add('input', 'meta l4proto icmp accept');
  add('input', 'meta l4proto ipv6-icmp accept');
  add('input', 'udp dport 67 accept'); // DHCP (RFC 2131)
  if (v6) add('input', 'udp dport 547 accept'); // DHCPv6 (RFC 8415)
  const dns = `{ ${String(o.dnsPort)}, ${String(o.preloginDnsPort)} }`;
  add('input', `udp dport ${dns} accept`);
  add('input', `tcp dport ${dns} accept`);
  add('input', `tcp dport { ${String(o.webPort)}, ${String(o.httpsPort)} } accept`);
  // A reset, not silence, so a browser's HTTPS to the gateway fails at once.
  add('input', 'meta l4proto tcp reject with tcp reset');
  add('input', 'drop');

  // forward
  add('forward', `iifname ${lan} jump from_lan`);
  add('forward', `oifname ${lan} jump to_lan`);

  // from_lan: clients never reach each other through the gateway.
  add('from_lan', `oifname ${lan} drop`);
  add('from_lan', `meta mark & ${auth} != ${auth} goto unauth_out`);
  add('from_lan', 'meta nfproto ipv4 limit name iifname . ether saddr . ip saddr map @lim_up4 drop');
  add('from_lan', 'meta nfproto ipv6 limit name iifname . ether saddr . ip6 saddr map @lim_up6 drop');
  for (const m of ['q_up', 'qt_up']) {
    add('from_lan', `meta nfproto ipv4 quota name iifname . ether saddr . ip saddr map @${m}4 drop`);
    add('from_lan', `meta nfproto ipv6 quota name iifname . ether saddr . ip6 saddr map @${m}6 drop`);
  }
  // Replies to this connection may now reach the client (see to_lan).
  add('from_lan', `ct mark set ct mark | ${auth}`);
  add('from_lan', 'accept');

  // unauth_out: only the walled garden; TCP gets a reset (HTTPS, DoT and any stream that outlived its session die at once).
  add('unauth_out', 'ip daddr @garden4 accept');
  add('unauth_out', 'ip daddr @garden_static4 accept');
  add('unauth_out', 'ip6 daddr @garden6 accept');
  add('unauth_out', 'ip6 daddr @garden_static6 accept');
  // The client's RST on a connection of an ended session tells the far end (see the top of this file).
  add('unauth_out', `ct mark & ${ended} == ${ended} tcp flags & rst == rst accept`);
  add('unauth_out', 'meta l4proto tcp reject with tcp reset');
  add('unauth_out', 'drop');

  // unauth_in: to a client on a connection no authorised client made. A reset tells the far end at once.
  add('unauth_in', 'ip saddr @garden4 accept');
  add('unauth_in', 'ip saddr @garden_static4 accept');
  add('unauth_in', 'ip6 saddr @garden6 accept');
  add('unauth_in', 'ip6 saddr @garden_static6 accept');
  add('unauth_in', 'meta l4proto tcp reject with tcp reset');
  add('unauth_in', 'drop');

  // ended_in: to a client on a connection of an ended session: a segment it must answer with a duplicate ACK, data unreadable.
  add('ended_in', 'tcp flags & (syn | rst) == 0 tcp sequence set tcp sequence ^ 0x80000000 accept');
  add('ended_in', 'drop');

  // to_lan: only replies on connections an authorised client made (or garden replies).
  add('to_lan', `ct mark & ${ended} == ${ended} goto ended_in`);
  add('to_lan', `ct mark & ${auth} != ${auth} goto unauth_in`);
  add('to_lan', 'meta nfproto ipv4 limit name oifname . ip daddr map @lim_dn4 drop');
  add('to_lan', 'meta nfproto ipv6 limit name oifname . ip6 daddr map @lim_dn6 drop');
  for (const m of ['q_dn', 'qt_dn']) {
    add('to_lan', `meta nfproto ipv4 quota name oifname . ip daddr map @${m}4 drop`);
    add('to_lan', `meta nfproto ipv6 quota name oifname . ip6 daddr map @${m}6 drop`);
  }
  add('to_lan', 'accept');

  // postrouting: the one lookup of down4/down6, which counts what the client receives.
  add('postrouting', `oifname != ${lan} return`);
  add('postrouting', 'meta nfproto ipv4 oifname . ip daddr @down4 return');
  add('postrouting', 'meta nfproto ipv6 oifname . ip6 daddr @down6 return');

  if (o.wanInterface !== undefined) {
    add('srcnat', `oifname ${q(o.wanInterface)} ip saddr ${networkOf(o.gatewayV4, o.prefixV4)} masquerade`);
  }
  return r;
}

/** The network of addr/prefix, as nft writes it. */
export function networkOf(addr: string, prefix: number): string {
  const n = addr.split('.').reduce((a, b) => (a << 8) + Number(b), 0) >>> 0;
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => String((net >>> s) & 255)).join('.')}/${String(prefix)}`;
}

/**
 * The whole ruleset as one nft(8) script. `keepState` means the table exists
 * with the same sets: declarations are `add`ed (no-ops) and only chains are
 * flushed and refilled, in one transaction, so no packet ever sees a
 * half-applied ruleset and no element is lost.
 */
export function renderApply(o: NftRulesetOptions): string {
  const t = `inet ${o.table}`;
  let s = `add table ${t}\n`;
  s += `table ${t} {\n${renderSetDeclarations()}${renderChainDeclarations()}}\n`;
  for (const c of CHAINS) s += `flush chain ${t} ${c}\n`;
  s += `flush set ${t} garden_static4\nflush set ${t} garden_static6\n`;
  if (o.gardenV4.length > 0) s += `add element ${t} garden_static4 { ${o.gardenV4.join(', ')} }\n`;
  if (o.gardenV6.length > 0) s += `add element ${t} garden_static6 { ${o.gardenV6.join(', ')} }\n`;
  s += `${renderRules(o).join('\n')}\n`;
  return s;
}

// ---- one client's elements -------------------------------------------------

export function upKey4(c: CheckedClient, ipv4: string): string {
  return `${q(c.ifname)} . ${c.mac} . ${ipv4}`;
}
export function upKey6(c: CheckedClient, ipv6: string): string {
  return `${q(c.ifname)} . ${c.mac} . ${ipv6}`;
}
export function downKey(c: CheckedClient, ip: string): string {
  return `${q(c.ifname)} . ${ip}`;
}

interface Keyed {
  set: string;
  key: string;
}

/** Every (set, key) pair of one client's counting sets. */
export function counterKeys(c: CheckedClient): Keyed[] {
  const out: Keyed[] = [];
  if (c.ipv4 !== undefined) out.push({ set: 'up4', key: upKey4(c, c.ipv4) }, { set: 'down4', key: downKey(c, c.ipv4) });
  for (const a of c.ipv6) out.push({ set: 'up6', key: upKey6(c, a) }, { set: 'down6', key: downKey(c, a) });
  return out;
}

/** (map, key, object) for each limit/quota the client has. */
export function objectKeys(c: CheckedClient, l: ClientLimits): { map: string; key: string; kind: 'limit' | 'quota'; obj: string }[] {
  const out: { map: string; key: string; kind: 'limit' | 'quota'; obj: string }[] = [];
  const up: [string, string][] = [];
  const dn: [string, string][] = [];
  if (c.ipv4 !== undefined) {
    up.push(['4', upKey4(c, c.ipv4)]);
    dn.push(['4', downKey(c, c.ipv4)]);
  }
  for (const a of c.ipv6) {
    up.push(['6', upKey6(c, a)]);
    dn.push(['6', downKey(c, a)]);
  }
  const both = (cond: boolean, upMap: string | undefined, dnMap: string | undefined, kind: 'limit' | 'quota', obj: string, upObj = obj): void => {
    if (!cond) return;
    if (upMap !== undefined) for (const [f, k] of up) out.push({ map: `${upMap}${f}`, key: k, kind, obj: upObj });
    if (dnMap !== undefined) for (const [f, k] of dn) out.push({ map: `${dnMap}${f}`, key: k, kind, obj });
  };
  both(l.bandwidthUp !== undefined, 'lim_up', undefined, 'limit', objectName('lu', c));
  both(l.bandwidthDown !== undefined, undefined, 'lim_dn', 'limit', objectName('ld', c));
  both(l.quotaUp !== undefined, 'q_up', undefined, 'quota', objectName('qu', c));
  both(l.quotaDown !== undefined, undefined, 'q_dn', 'quota', objectName('qd', c));
  both(l.quotaBytes !== undefined, 'qt_up', 'qt_dn', 'quota', objectName('qt', c));
  return out;
}

export function objectName(prefix: 'lu' | 'ld' | 'qu' | 'qd' | 'qt', c: CheckedClient): string {
  return `${prefix}_${c.id}`;
}

/**
 * The policer's extra burst. The kernel's byte-mode bucket already holds one
 * second of traffic plus the burst (net/netfilter/nft_limit.c: tokens_max =
 * nsecs * (rate + burst) / rate), so the burst is kept to two full frames:
 * a larger one only lengthens the line-rate start of each transfer.
 */
export function burstBytes(): number {
  return 2 * 1514;
}

/** The nft declaration of one limit/quota object. */
export function objectDeclaration(t: string, kind: 'limit' | 'quota', name: string, c: { rateBits?: number; bytes?: bigint }): string {
  if (kind === 'limit') {
    const rate = Math.max(1, Math.round((c.rateBits ?? 8) / 8));
    return `add limit ${t} ${name} { rate over ${String(rate)} bytes/second burst ${String(burstBytes())} bytes }`;
  }
  return `add quota ${t} ${name} { over ${String(c.bytes ?? 0n)} bytes }`;
}

/** Objects for a client's limits: name → declaration. */
export function limitObjects(t: string, c: CheckedClient, l: ClientLimits): Map<string, string> {
  const m = new Map<string, string>();
  if (l.bandwidthUp !== undefined) m.set(objectName('lu', c), objectDeclaration(t, 'limit', objectName('lu', c), { rateBits: l.bandwidthUp }));
  if (l.bandwidthDown !== undefined) m.set(objectName('ld', c), objectDeclaration(t, 'limit', objectName('ld', c), { rateBits: l.bandwidthDown }));
  if (l.quotaUp !== undefined) m.set(objectName('qu', c), objectDeclaration(t, 'quota', objectName('qu', c), { bytes: l.quotaUp }));
  if (l.quotaDown !== undefined) m.set(objectName('qd', c), objectDeclaration(t, 'quota', objectName('qd', c), { bytes: l.quotaDown }));
  if (l.quotaBytes !== undefined) m.set(objectName('qt', c), objectDeclaration(t, 'quota', objectName('qt', c), { bytes: l.quotaBytes }));
  return m;
}

const ALL_LIMITS: ClientLimits = { bandwidthUp: 8, bandwidthDown: 8, quotaUp: 1n, quotaDown: 1n, quotaBytes: 1n };

/**
 * Commands that remove a client's limits (map entries, objects) whether or
 * not they exist: nft 1.0.6 has no `destroy`, and a
 * `delete` of a missing element fails the whole batch, so each item is first
 * `add`ed (a no-op when present) and then deleted.
 */
export function renderRemoveLimits(t: string, c: CheckedClient): string[] {
  const out: string[] = [];
  const objs = limitObjects(t, c, ALL_LIMITS);
  for (const decl of objs.values()) out.push(decl);
  for (const k of objectKeys(c, ALL_LIMITS)) {
    out.push(`add element ${t} ${k.map} { ${k.key} : ${q(k.obj)} }`, `delete element ${t} ${k.map} { ${k.key} }`);
  }
  for (const name of objs.keys()) out.push(`delete ${name.startsWith('l') ? 'limit' : 'quota'} ${t} ${name}`);
  return out;
}

/** Like renderRemoveLimits, for the counting elements. */
export function renderRemoveCounters(t: string, c: CheckedClient): string[] {
  const out: string[] = [];
  for (const k of counterKeys(c)) out.push(`add element ${t} ${k.set} { ${k.key} }`, `delete element ${t} ${k.set} { ${k.key} }`);
  return out;
}

/** Commands that install a client's limit/quota objects and their map entries. */
export function renderLimits(t: string, c: CheckedClient, l: ClientLimits): string[] {
  return [...limitObjects(t, c, l).values(), ...renderMapEntries(t, c, l)];
}

/** The map entries alone, for objects that exist (addresses added to a session). */
export function renderMapEntries(t: string, c: CheckedClient, l: ClientLimits): string[] {
  const timeout = l.timeoutSec === undefined ? '' : ` timeout ${String(l.timeoutSec)}s`;
  return objectKeys(c, l).map((k) => `add element ${t} ${k.map} { ${k.key}${timeout} : ${q(k.obj)} }`);
}

/** Commands that add a client's counting elements (counters from zero, or from `restore`). */
export function renderAdd(t: string, c: CheckedClient, l: ClientLimits, restore?: Map<string, { packets: bigint; bytes: bigint }>): string[] {
  const timeout = l.timeoutSec === undefined ? '' : ` timeout ${String(l.timeoutSec)}s`;
  const out: string[] = [];
  for (const k of counterKeys(c)) {
    const r = restore?.get(`${k.set} ${k.key}`);
    // nft 1.0.6 takes the counter before the timeout.
    const counter = r === undefined ? '' : ` counter packets ${String(r.packets)} bytes ${String(r.bytes)}`;
    out.push(`add element ${t} ${k.set} { ${k.key}${counter}${timeout} }`);
  }
  return out;
}
