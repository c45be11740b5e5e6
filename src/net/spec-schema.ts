// The network spec: one YAML file that describes seed 000's dedicated-server
// host, its failover IPs and guests, an optional Hurricane Electric tunnel and
// an optional L2TP/IPsec head-end. Every name that ends up in a shell line,
// rc.conf or pf.conf is held to a strict pattern so that nothing needs quoting.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parsePrefixed } from './address.js';

/** ifconfig(8) names: letters then letters, digits, '.' or '_'; IFNAMSIZ is 16 with the NUL. */
const IFNAME = /^[A-Za-z][A-Za-z0-9_.]{0,14}$/;
const NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const MAC = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;
/**
 * npppd-users(5) separates capabilities with ':' and chap-secrets and
 * ipsec.conf quote with '"': a secret holds neither, nor blanks or '\\'.
 */
const SECRET = /^[A-Za-z0-9!#$%&()*+,./;<=>?@[\]^_{|}~-]{1,128}$/;
const RELEASE = /^\d{1,2}\.\d{1,2}$/;

const ifname = z.string().regex(IFNAME, 'must be an interface name such as vtnet0, vio0 or eth0');
const ipv4 = z.string().refine((a) => isIPv4(a), { message: 'must be an IPv4 address' });
const ipv6 = z.string().refine((a) => isIPv6(a), { message: 'must be an IPv6 address' });
const prefixed = (family: 4 | 6, what: string) =>
  z.string().refine((a) => parsePrefixed(a)?.family === family, { message: `must be ${what}` });
const port = z.number().int().min(1).max(65535);

export const GUEST_OSES = ['freebsd', 'openbsd', 'netbsd', 'linux'] as const;

const host = z.strictObject({
  name: z.string().regex(NAME, 'must be a lowercase name').default('host'),
  /** The host's own OS; the hypervisor command lines are rendered for it. */
  os: z.enum(['freebsd', 'openbsd', 'netbsd', 'linux']).default('freebsd'),
  uplink: ifname,
  /** The default gateway assigned to the host by the provider; guests use it too. */
  gateway: ipv4,
});

const failover = z.strictObject({
  ip: ipv4,
  /** The virtual MAC the provider bound to this IP; omit it and the lint says so. */
  mac: z.string().regex(MAC, 'must be a MAC address such as 00:50:56:00:01:AA').optional(),
});

const guest = z.strictObject({
  name: z.string().regex(NAME, 'must be a lowercase name'),
  os: z.enum(GUEST_OSES),
  /** The release the files are written for; OpenBSD picks its route form by it. */
  release: z.string().regex(RELEASE, 'must be a release such as 5.9 or 7.6').optional(),
  hypervisor: z.enum(['bhyve', 'qemu']).default('bhyve'),
  /** The guest's interface (vtnet0, vio0, vioif0, eth0). */
  interface: ifname,
  /** The host's tap(4) interface for this guest. */
  tap: ifname,
  /** One of the failover IPs, with an optional prefix length (default /32). */
  ip: prefixed(4, 'an IPv4 address, optionally with a prefix such as /32'),
  /** Defaults to the host's gateway. */
  gateway: ipv4.optional(),
  /**
   * Whether the gateway is reached on-link although it lies outside the
   * prefix (the failover method). false says the guest has no such route:
   * then a gateway outside the prefix is unreachable and the lint says so.
   */
  gatewayOnLink: z.boolean().default(true),
  /** bhyve PCI slot for the NIC: -s SLOT,virtio-net,TAP,mac=… */
  slot: z.string().regex(/^\d{1,2}(:\d{1,2}){0,2}$/, 'must be a PCI slot such as 1:0').default('1:0'),
});

const tunnel = z.strictObject({
  /** The guest the tunnel ends on, or the host when omitted. */
  guest: z.string().regex(NAME, 'must be a guest name').optional(),
  interface: ifname.optional(),
  local: ipv4,
  remote: ipv4,
  client6: prefixed(6, 'an IPv6 address with its prefix, such as 2001:db8:1f0a::2/64'),
  server6: ipv6,
  routed: prefixed(6, 'an IPv6 prefix, such as 2001:db8:1f0b::/64'),
  /** HE's tunnels carry 1480 bytes of IPv6 in 1500 of IPv4. */
  mtu: z.number().int().min(1280).max(1480).default(1480),
});

const vpnUser = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be a user name of letters, digits and _ . -'),
  password: z.string().regex(SECRET, 'must be 1-128 printable characters without spaces, quotes, colons or backslashes'),
  framedIp: ipv4,
});

const vpn = z.strictObject({
  /** The address isakmpd/charon accepts connections on. */
  listen: ipv4,
  /** The head-end's uplink, for PF. */
  interface: ifname.default('egress'),
  auth: z.union([
    z.strictObject({ psk: z.string().regex(SECRET, 'must be 1-128 printable characters without spaces, quotes, colons or backslashes') }),
    z.strictObject({ certificate: z.string().regex(/^[A-Za-z0-9_./-]{1,200}$/, 'must be a file name'), key: z.string().regex(/^[A-Za-z0-9_./-]{1,200}$/, 'must be a file name') }),
  ]),
  users: z.array(vpnUser).min(1).max(1000),
  /** The address npppd/xl2tpd gives the server end, and the pool users' framed IPs come from. */
  localAddress: ipv4.default('10.0.0.1'),
  pool: prefixed(4, 'an IPv4 prefix such as 10.0.0.0/24'),
  dns: z.array(ipv4).max(2).default([]),
  crypto: z.enum(['modern', 'legacy-apple']).default('modern'),
  /** OpenBSD: npppd's tunnel interface type; pppx needs net.pipex.enable=1. */
  pipex: z.boolean().default(true),
});

const jailService = z.strictObject({
  service: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be a lowercase service name'),
  address: ipv4,
  port,
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  redirect: z.strictObject({
    port: port.min(1024, 'must be 1024 or above: the daemon runs unprivileged'),
    publicAddress: ipv4,
    interfaces: z.array(ifname).min(1),
  }),
});

export const netSpecSchema = z.strictObject({
  /** The dedicated server; required when there are guests (they use its gateway). */
  host: host.optional(),
  failover: z.array(failover).max(256).default([]),
  guests: z.array(guest).max(256).default([]),
  tunnel: tunnel.optional(),
  vpn: vpn.optional(),
  jails: z.array(jailService).max(64).default([]),
}).superRefine((spec, ctx) => {
  if (spec.host === undefined && (spec.guests.length > 0 || spec.tunnel?.guest === undefined && spec.tunnel !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['host'], message: 'is required when there are guests or a tunnel on the host' });
  }
  spec.guests.forEach((g, i) => {
    if (spec.guests.findIndex((o) => o.name === g.name) !== i) ctx.addIssue({ code: 'custom', path: ['guests', i, 'name'], message: `guest name '${g.name}' is used twice` });
  });
  if (spec.tunnel?.guest !== undefined && !spec.guests.some((g) => g.name === spec.tunnel?.guest)) {
    ctx.addIssue({ code: 'custom', path: ['tunnel', 'guest'], message: `names '${spec.tunnel.guest}', which is not a guest` });
  }
});

export type NetSpec = z.infer<typeof netSpecSchema>;
export type GuestSpec = NetSpec['guests'][number];
export type TunnelSpec = NonNullable<NetSpec['tunnel']>;
export type VpnSpec = NonNullable<NetSpec['vpn']>;
export type JailServiceSpec = NetSpec['jails'][number];

/** The guest's gateway: its own, or the host's. */
export function guestGateway(spec: NetSpec, g: GuestSpec): string {
  // The schema requires a host whenever there are guests.
  return g.gateway ?? spec.host?.gateway ?? '0.0.0.0';
}

/** The host, which the schema guarantees whenever guests or a host tunnel exist. */
export function hostOf(spec: NetSpec): NonNullable<NetSpec['host']> {
  return spec.host ?? { name: 'host', os: 'freebsd', uplink: 'em0', gateway: '0.0.0.0' };
}

/** The MAC of the failover IP a guest uses, if the spec names one. */
export function guestMac(spec: NetSpec, g: GuestSpec): string | undefined {
  const ip = g.ip.split('/')[0];
  return spec.failover.find((f) => f.ip === ip)?.mac;
}
