// dnsmasq(8) configuration for moat portal: two instances.
//  - The main one serves DHCP (with RFC 8910 option 114, the portal's RFC 8908
//    API URL) and the full resolver on port 53, for authorised clients.
//  - The pre-login one listens on another port, where nftables redirects an
//    unauthorised client's DNS (to any address). It forwards only walled-garden
//    and captive-portal detection names and answers NXDOMAIN for everything
//    else (dnsmasq(8) --address=/#/), so DNS cannot be used as a tunnel before
//    login.
// Both put the addresses of garden names into moat's nftables sets
// (dnsmasq(8) --nftset), so only the gateway's own resolver opens the garden.
import { isIPv4, isIPv6 } from 'node:net';
import { MoatError } from '../../core/errors.js';

export const DNSMASQ_CONFIG = 'MOAT_PORTAL_DNSMASQ_CONFIG';

/** Names operating systems fetch to detect a captive portal; they must resolve before login so the redirect can show the page. */
export const DETECTION_NAMES: readonly string[] = [
  'captive.apple.com', // iOS, macOS
  'connectivitycheck.gstatic.com', // Android
  'connectivitycheck.android.com',
  'clients3.google.com',
  'www.msftconnecttest.com', // Windows NCSI
  'dns.msftncsi.com',
  'www.msftncsi.com',
  'detectportal.firefox.com', // Firefox
  'nmcheck.gnome.org', // NetworkManager
  'connectivity-check.ubuntu.com',
  'network-test.debian.org',
];

export interface DnsmasqCommon {
  /** The clients' interface. */
  interface: string;
  gatewayV4: string;
  gatewayV6?: string | undefined;
  /** Upstream resolvers (address or address#port); empty: /etc/resolv.conf (main), the main instance (pre-login). */
  upstream?: readonly string[];
  /** Walled-garden domains (and their subdomains). */
  gardenDomains?: readonly string[];
  /** moat's nftables table; the sets are garden4 and garden6. */
  table: string;
  /** PF instead of nftables: the main-ruleset PF table for garden names' addresses (dnsmasq(8) --ipset, which fills PF tables on FreeBSD and OpenBSD). */
  pfTable?: string | undefined;
  /** The portal's name, answered with the gateway's addresses by both instances. */
  portalHostname?: string | undefined;
  pidFile?: string | undefined;
  /** Log every query (dnsmasq's log-queries). */
  logQueries?: boolean;
}

export interface MainDnsmasqOptions extends DnsmasqCommon {
  /** DHCP: first and last address, lease seconds, network prefix length. */
  range?: readonly [string, string] | undefined;
  prefixV4?: number;
  leaseTime?: number;
  leaseFile: string;
  /** RFC 8908 API URI, sent as DHCP option 114 (RFC 8910 §2.1), and as DHCPv6 option 103 (§2.2) with `ipv6`. */
  captiveApiUrl: string;
  /** Router advertisements for the interface's /64 and stateless DHCPv6 (needs gatewayV6). */
  ipv6?: boolean;
  /** Local domain handed out (option 15) and answered locally. */
  domain?: string | undefined;
  /** Default 53. */
  port?: number;
}

export interface PreloginDnsmasqOptions extends DnsmasqCommon {
  /** Port nftables redirects unauthorised DNS to. */
  port: number;
  /** Extra detection names besides DETECTION_NAMES. */
  detectionNames?: readonly string[];
  /** Port of the main instance, used as upstream when `upstream` is empty. */
  mainPort?: number;
}

function fail(message: string): never {
  throw new MoatError(DNSMASQ_CONFIG, message);
}

const IFNAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const TABLE = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** PF_TABLE_NAME_SIZE is 32 with the NUL. */
const PF_TABLE = /^[A-Za-z][A-Za-z0-9_]{0,30}$/;
/** A value that ends up on a dnsmasq config line must not end that line or open a comment. */
const SAFE_PATH = /^\/[A-Za-z0-9_./-]{1,4095}$/;

function ifname(s: string): string {
  if (!IFNAME.test(s)) fail(`bad interface name: ${JSON.stringify(s)}`);
  return s;
}
function v4(s: string, what: string): string {
  if (!isIPv4(s)) fail(`${what} must be an IPv4 address, not ${JSON.stringify(s)}`);
  return s;
}
function v6(s: string, what: string): string {
  if (!isIPv6(s) || s.includes('%')) fail(`${what} must be an IPv6 address, not ${JSON.stringify(s)}`);
  return s;
}
function domain(s: string): string {
  if (!DOMAIN.test(s)) fail(`bad domain name: ${JSON.stringify(s)}`);
  return s.toLowerCase();
}
function path(s: string, what: string): string {
  if (!SAFE_PATH.test(s) || s.split('/').includes('..')) fail(`${what} must be an absolute path of letters, digits and _ . - /: ${JSON.stringify(s)}`);
  return s;
}
function port(p: number, what: string): string {
  if (!Number.isInteger(p) || p < 1 || p > 65535) fail(`${what} must be a port 1..65535`);
  return String(p);
}
/** `addr` or `addr#port`, as dnsmasq's --server takes it. */
function server(s: string): string {
  const [a = '', p, extra] = s.split('#');
  if (extra !== undefined || !(isIPv4(a) || isIPv6(a)) || (p !== undefined && !/^\d{1,5}$/.test(p))) fail(`bad upstream resolver: ${JSON.stringify(s)} (want ADDRESS or ADDRESS#PORT)`);
  if (p !== undefined) port(Number(p), 'upstream port');
  return s;
}

/** RFC 8910 §2: the URI must be https and fit a DHCP option (255 octets); dnsmasq quotes it. */
export function checkCaptiveUrl(s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return fail(`captive API URL is not a URL: ${JSON.stringify(s)}`);
  }
  // RFC 8908 §2: the API is served over TLS.
  if (u.protocol !== 'https:') fail('captive API URL must be https (RFC 8908 §2)');
  if (Buffer.byteLength(s) > 255) fail('captive API URL is longer than 255 octets (a DHCP option)');
  if (!/^[\x21-\x7e]+$/.test(s) || /["\\,#]/.test(s)) fail('captive API URL must be printable ASCII without quotes, backslashes, commas or #');
  return s;
}

function netmask(prefix: number): string {
  const m = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => String((m >>> s) & 255)).join('.');
}

function common(o: DnsmasqCommon, lines: string[]): void {
  if (!TABLE.test(o.table)) fail(`bad nftables table name: ${JSON.stringify(o.table)}`);
  lines.push('no-hosts');
  if (o.pidFile !== undefined) lines.push(`pid-file=${path(o.pidFile, 'pid file')}`);
  if (o.logQueries === true) lines.push('log-queries');
  const g = v4(o.gatewayV4, 'gateway address');
  const g6 = o.gatewayV6 === undefined ? undefined : v6(o.gatewayV6, 'gateway IPv6 address');
  if (o.portalHostname !== undefined) lines.push(`host-record=${domain(o.portalHostname)},${g}${g6 === undefined ? '' : `,${g6}`}`);
  const garden = (o.gardenDomains ?? []).map(domain);
  if (o.pfTable !== undefined && !PF_TABLE.test(o.pfTable)) fail(`bad PF table name: ${JSON.stringify(o.pfTable)}`);
  for (const d of garden) {
    // dnsmasq(8) --nftset: 4#/6# keep A and AAAA answers in their own set. --ipset on a BSD: one PF table holds both families.
    lines.push(o.pfTable === undefined ? `nftset=/${d}/4#inet#${o.table}#garden4,6#inet#${o.table}#garden6` : `ipset=/${d}/${o.pfTable}`);
  }
}

/** The main instance: DHCP and the full resolver. */
export function renderDnsmasqConfig(o: MainDnsmasqOptions): string {
  const lines = ['# Written by moat portal; changes here are lost at the next start.'];
  const ifn = ifname(o.interface);
  lines.push(`port=${port(o.port ?? 53, 'DNS port')}`, `interface=${ifn}`, 'except-interface=lo', 'bind-dynamic');
  common(o, lines);
  const upstream = (o.upstream ?? []).map(server);
  if (upstream.length > 0) {
    lines.push('no-resolv');
    for (const s of upstream) lines.push(`server=${s}`);
  }
  if (o.domain !== undefined) {
    const d = domain(o.domain);
    lines.push(`domain=${d}`, `local=/${d}/`);
  }
  lines.push(`dhcp-leasefile=${path(o.leaseFile, 'lease file')}`);
  if (o.range !== undefined) {
    const [lo, hi] = o.range;
    const prefix = o.prefixV4 ?? 24;
    if (!Number.isInteger(prefix) || prefix < 8 || prefix > 30) fail('prefixV4 must be 8..30');
    const lease = o.leaseTime ?? 3600;
    if (!Number.isInteger(lease) || lease < 120 || lease > 7 * 86400) fail('lease time must be 120..604800 seconds');
    lines.push(`dhcp-range=${v4(lo, 'range start')},${v4(hi, 'range end')},${netmask(prefix)},${String(lease)}s`);
    lines.push('dhcp-authoritative');
    lines.push(`dhcp-option=option:router,${o.gatewayV4}`, `dhcp-option=option:dns-server,${o.gatewayV4}`);
    // RFC 8910 §2.1: DHCPv4 option 114 carries the URI of the RFC 8908 API.
    lines.push(`dhcp-option=114,"${checkCaptiveUrl(o.captiveApiUrl)}"`);
  } else {
    checkCaptiveUrl(o.captiveApiUrl);
  }
  if (o.ipv6 === true) {
    if (o.gatewayV6 === undefined) fail('IPv6 router advertisements need the gateway IPv6 address');
    // dnsmasq(8) --enable-ra, --dhcp-range=::,constructor:IF,ra-stateless: SLAAC on the interface's
    // prefixes, with the O flag, so clients ask DHCPv6 (Information-Request, RFC 8415 §18.2.6) for the rest.
    lines.push('enable-ra', `dhcp-range=::,constructor:${ifn},ra-stateless,${String(o.leaseTime ?? 3600)}s`);
    lines.push(`dhcp-option=option6:dns-server,[${v6(o.gatewayV6, 'gateway IPv6 address')}]`);
    // RFC 8910 §2.2: DHCPv6 option 103, the same URI. No router-advertisement option 37 (§2.3): dnsmasq has none.
    lines.push(`dhcp-option=option6:103,"${checkCaptiveUrl(o.captiveApiUrl)}"`);
  }
  return `${lines.join('\n')}\n`;
}

/** The pre-login instance: DNS only, garden and detection names only. */
export function renderPreloginDnsmasqConfig(o: PreloginDnsmasqOptions): string {
  const lines = ['# Written by moat portal: the resolver of clients that have not logged in.'];
  ifname(o.interface);
  lines.push(`port=${port(o.port, 'pre-login DNS port')}`, `listen-address=${v4(o.gatewayV4, 'gateway address')}`);
  if (o.gatewayV6 !== undefined) lines.push(`listen-address=${v6(o.gatewayV6, 'gateway IPv6 address')}`);
  lines.push('bind-dynamic', 'no-resolv');
  common(o, lines);
  const upstream = (o.upstream ?? []).map(server);
  const via = upstream.length > 0 ? upstream : [`${o.gatewayV4}#${port(o.mainPort ?? 53, 'main DNS port')}`];
  const names = [...new Set([...(o.gardenDomains ?? []), ...DETECTION_NAMES, ...(o.detectionNames ?? [])].map(domain))];
  // Longest match wins (dnsmasq(8) --server): these names go upstream, everything else gets NXDOMAIN.
  // One name a line: dnsmasq reads config lines into a bounded buffer.
  for (const n of names) for (const s of via) lines.push(`server=/${n}/${s}`);
  lines.push('address=/#/');
  return `${lines.join('\n')}\n`;
}
