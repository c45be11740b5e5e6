// portal.yaml: the one settings table of `moat portal`. Every setting has its
// default here and nowhere else; the daemon, the web server and `check` read
// the parsed `PortalSettings`, never the raw YAML.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { loadSpec, parseSpec } from '../core/spec-loader.js';

/** ifconfig(8)/ip-link(8) names; IFNAMSIZ is 16 with the NUL. */
const IFNAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
/** nft(8) identifiers. */
const NFT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
const NO_CONTROLS = /^[^\x00-\x1f\x7f]*$/;
/** RFC 2865 §3: a shared secret of at least 16 octets is recommended; we ask for 8 at least and at most 128. */
const SECRET = z.string().min(8, 'must be at least 8 characters').max(128).regex(NO_CONTROLS, 'must not contain control characters');
const MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

const port = z.number().int().min(1).max(65535);
const seconds = (max: number) => z.number().int().min(0).max(max);
const ipv4 = z.string().refine(isIPv4, { message: 'must be an IPv4 address' });
const host = z.string().refine((a) => isIPv4(a) || isIPv6(a), { message: 'must be an IPv4 or IPv6 address' });
const cidr4 = z.string().refine((s) => {
  const [a, bits] = s.split('/');
  return a !== undefined && isIPv4(a) && bits !== undefined && /^\d{1,2}$/.test(bits) && Number(bits) >= 8 && Number(bits) <= 30;
}, { message: 'must be an IPv4 address with a prefix length 8..30, such as 10.1.0.1/24' });
const cidr6 = z.string().refine((s) => {
  const [a, bits] = s.split('/');
  return a !== undefined && isIPv6(a) && !a.includes('%') && bits === '64';
}, { message: 'must be an IPv6 address with prefix length 64, such as fd00:1::1/64' });
const hostPort = z.string().refine((s) => /^(?:\[[0-9a-fA-F:]+\]|[0-9.]+):\d{1,5}$/.test(s) && Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, {
  message: 'must be ADDRESS:PORT, such as 127.0.0.1:9120 or [::1]:9120',
});
const absPath = z.string().regex(/^\/[^\x00-\x1f\x7f]*$/, 'must be an absolute path');
const domain = z.string().regex(/^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, 'must be a domain name');
const mac = z.string().regex(MAC, 'must be a MAC address such as 02:00:00:00:00:01').transform((m) => m.toLowerCase().replace(/-/g, ':'));

const radiusServer = z.strictObject({
  host,
  'auth-port': port.default(1812),
  'acct-port': port.default(1813),
  secret: SECRET,
});

const schema = z.strictObject({
  /** RFC 2865 §5.32 NAS-Identifier: names this gateway to RADIUS; unique in a fleet. */
  'nas-id': z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'must be letters, digits and _ . : -'),
  /** The client-side interface and the gateway's address on it. */
  interface: z.string().regex(IFNAME, 'must be an interface name such as wlan0'),
  address: cidr4,
  address6: cidr6.optional(),
  /** The uplink: client IPv4 is masqueraded out of it when given. */
  wan: z.string().regex(IFNAME, 'must be an interface name such as eth0').optional(),
  dns: z
    .strictObject({
      /** Run dnsmasq (DHCP and DNS) from moat; off when another server does it. */
      managed: z.boolean().default(true),
      /** Resolvers dnsmasq asks; default: /etc/resolv.conf. */
      upstream: z.array(z.string().regex(/^[0-9a-fA-F.:]+(#\d{1,5})?$/, 'must be an address, optionally #port')).max(8).default([]),
      /** The resolver for clients before login (answers garden and detection names only). */
      'prelogin-port': port.default(5353),
    })
    .prefault({}),
  dhcp: z
    .strictObject({
      /** First and last address handed out; inside `address`'s network. */
      range: z.tuple([ipv4, ipv4]),
      'lease-time': seconds(7 * 86400).min(120).default(3600),
      /**
       * IPv6 from dnsmasq too: router advertisements for address6's /64 (SLAAC,
       * "other configuration" flag) and stateless DHCPv6 with the DNS server and
       * RFC 8910 option 103. Off when another daemon (radvd) announces the prefix.
       */
      ipv6: z.boolean().default(false),
    })
    .optional(),
  radius: z.strictObject({
    servers: z.array(radiusServer).min(1).max(2),
    /** Seconds to wait for one answer; retries per server before failing over. */
    timeout: seconds(30).min(1).default(3),
    retries: seconds(10).default(2),
    'nas-ip': ipv4.optional(),
    /** CVE-2024-3596 (BlastRADIUS): refuse replies without Message-Authenticator. */
    'require-message-authenticator': z.boolean().default(true),
    /** CHAP (default) or PAP for the built-in page; both are accepted from external pages. */
    method: z.enum(['chap', 'pap']).default('chap'),
    coa: z
      .strictObject({
        listen: z.string().default('0.0.0.0'),
        /** RFC 5176 §3: port 3799. */
        port: port.default(3799),
        clients: z.array(z.strictObject({ address: host, secret: SECRET })).min(1),
      })
      .optional(),
  }),
  web: z
    .strictObject({
      /** CoovaChilli's uamport: plain HTTP, where unauthorised clients are redirected. */
      port: port.default(3990),
      /** RFC 8908 API and login over HTTPS; needs cert and key. */
      'https-port': port.default(4990),
      cert: absPath.optional(),
      key: absPath.optional(),
      /** The name in the portal's URLs (and the only Host accepted besides the address). */
      hostname: domain.optional(),
      /** An external login page (CoovaChilli's uamserver); default: the built-in page. */
      'login-url': z.url({ protocol: /^https?$/ }).optional(),
      /** CoovaChilli's uamsecret: signs the redirect (`md`) and the CHAP challenge. */
      'uam-secret': SECRET.optional(),
      /** `hmac-sha256` (with an expiry) or CoovaChilli's `md5` (MD5(url || secret)), only for old pages. */
      md: z.enum(['hmac-sha256', 'md5']).default('hmac-sha256'),
      'md-lifetime': seconds(3600).min(10).default(300),
      /** Login attempts per MAC per minute. */
      'login-rate': seconds(1000).min(1).default(5),
      /** An RFC 8908 `user-portal-url` other than the built-in page; `venue-info-url`. */
      'venue-url': z.url().optional(),
    })
    .prefault({}),
  session: z
    .strictObject({
      /** Defaults when RADIUS sends none; 0: no limit. */
      'interim-interval': seconds(86400).default(600),
      'session-timeout': seconds(30 * 86400).default(0),
      'idle-timeout': seconds(30 * 86400).default(0),
      /** Crash-safe session journal lives here. */
      'state-dir': absPath.default('/var/db/moat-portal'),
      /** IPv6 addresses a client starts using after login (privacy, SLAAC) join its session, found by its MAC. */
      'adopt-ipv6': z.boolean().default(true),
      /** Accounting loop tick: counters read, idle and quotas checked. */
      'check-interval': seconds(300).min(1).default(10),
    })
    .prefault({}),
  garden: z
    .strictObject({
      domains: z.array(domain).max(1000).default([]),
      addresses: z.array(host).max(1000).default([]),
    })
    .prefault({}),
  'mac-auth': z
    .strictObject({
      /** Ask RADIUS with User-Name = MAC before showing the page (CoovaChilli's macauth). */
      enabled: z.boolean().default(false),
      /** The User-Password sent with MAC authentication (CoovaChilli's macpasswd); default: the MAC itself. */
      password: z.string().max(128).regex(NO_CONTROLS).optional(),
      /** Online without RADIUS at all (CoovaChilli's macallowed). */
      trusted: z.array(mac).max(10000).default([]),
    })
    .prefault({}),
  firewall: z
    .strictObject({
      backend: z.enum(['nft', 'pf']).default('nft'),
      table: z.string().regex(NFT_NAME, 'must be letters, digits and _').default('moat_portal'),
    })
    .prefault({}),
  /** Prometheus metrics on this local address (GET /metrics). */
  metrics: hostPort.optional(),
  query: z
    .strictObject({
      socket: absPath.default('/run/moat-portal.sock'),
      /** Members of this group may use `moat portal query` too (mode 0660). */
      group: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/).optional(),
    })
    .prefault({}),
  log: z
    .strictObject({
      syslog: z.string().optional(),
      level: z.enum(['debug', 'info', 'notice', 'warning', 'err']).default('info'),
    })
    .prefault({}),
});

export const portalConfigSchema = schema.superRefine((c, ctx) => {
  const https = c.web.cert !== undefined || c.web.key !== undefined;
  if (https && (c.web.cert === undefined || c.web.key === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['web', c.web.cert === undefined ? 'key' : 'cert'], message: 'cert and key go together' });
  }
  if (c.web.md === 'md5' && c.web['uam-secret'] === undefined) {
    ctx.addIssue({ code: 'custom', path: ['web', 'md'], message: 'md5 needs uam-secret' });
  }
  if (c.web['login-url'] !== undefined && c.web['uam-secret'] === undefined) {
    ctx.addIssue({ code: 'custom', path: ['web', 'login-url'], message: 'an external login page needs uam-secret' });
  }
  // PF: the garden names' table is `<table>_dns`, within PF_TABLE_NAME_SIZE (31 characters).
  if (c.firewall.backend === 'pf' && c.firewall.table.length > 27) ctx.addIssue({ code: 'custom', path: ['firewall', 'table'], message: 'with the pf backend, at most 27 characters' });
  if (c.web.port === c.web['https-port']) ctx.addIssue({ code: 'custom', path: ['web', 'https-port'], message: 'must differ from web.port' });
  if (c.dhcp?.ipv6 === true && c.address6 === undefined) ctx.addIssue({ code: 'custom', path: ['dhcp', 'ipv6'], message: 'needs address6' });
  if (c.dhcp !== undefined) {
    const [lo, hi] = c.dhcp.range;
    const net = networkOf(c.address);
    if (!inNetwork(lo, net) || !inNetwork(hi, net) || ipNumber(lo) > ipNumber(hi)) {
      ctx.addIssue({ code: 'custom', path: ['dhcp', 'range'], message: `must be a rising range inside ${c.address}` });
    }
  }
});

export type PortalConfigFile = z.infer<typeof portalConfigSchema>;

/** What the daemon runs with: the file's values with defaults filled in, and derived values. */
export interface PortalSettings {
  readonly file: string;
  readonly config: PortalConfigFile;
  /** The gateway's IPv4 address without the prefix. */
  readonly gateway: string;
  readonly prefixLength: number;
  readonly gateway6: string | undefined;
  /** The name or address clients use in URLs. */
  readonly portalHost: string;
}

export function settingsOf(config: PortalConfigFile, file: string): PortalSettings {
  const [gateway = '', bits = '24'] = config.address.split('/');
  return {
    file,
    config,
    gateway,
    prefixLength: Number(bits),
    gateway6: config.address6?.split('/')[0],
    portalHost: config.web.hostname ?? gateway,
  };
}

export function parsePortalConfig(text: string, file: string): PortalSettings {
  return settingsOf(parseSpec(portalConfigSchema, text, file), file);
}

export async function loadPortalConfig(file: string): Promise<PortalSettings> {
  return settingsOf(await loadSpec(portalConfigSchema, file), file);
}

export function ipNumber(a: string): number {
  return a.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

function networkOf(cidr: string): { base: number; mask: number } {
  const [a = '0.0.0.0', b = '32'] = cidr.split('/');
  const bits = Number(b);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (ipNumber(a) & mask) >>> 0, mask };
}

export function inNetwork(a: string, net: { base: number; mask: number }): boolean {
  return ((ipNumber(a) & net.mask) >>> 0) === net.base;
}

export function networkOfAddress(cidr: string): { base: number; mask: number } {
  return networkOf(cidr);
}
