/**
 * The `moat ifstated multiwan` spec: uplinks described once, from which the
 * ifstated config and the PF anchors (or nftables rulesets) are generated.
 */
import { z } from 'zod';
import { multiwanProblems } from './multiwan-rules.js';

const ifname = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/, 'an interface name');
const ipv4 = z.string().regex(/^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/, 'an IPv4 address');
const cidr = z.string().regex(/^(?:\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, 'an IPv4 network such as 192.168.1.0/24');
const name = z.string().regex(/^[a-z][a-z0-9_]{0,30}$/, 'a lower-case name (letters, digits, _)');

export const uplinkSchema = z.strictObject({
  name,
  interface: ifname,
  gateway: ipv4,
  /** Source address for probes (the uplink's own address). */
  source: ipv4.optional(),
  /** Probe targets; default: the gateway. */
  probes: z.array(ipv4).min(1).max(8).optional(),
});

const fields = z.strictObject({
  /** pf (OpenBSD, FreeBSD) or nftables (Linux). */
  backend: z.enum(['pf', 'nftables']).default('pf'),
  /** Where the generated files will live on the target host. */
  installDir: z.string().regex(/^\/[A-Za-z0-9_./-]*$/, 'an absolute path').default('/etc/moat-multiwan'),
  lan: z.strictObject({ interface: ifname, network: cidr }),
  uplinks: z.array(uplinkSchema).min(2, 'at least 2 uplinks').max(4, 'at most 4 uplinks'),
  probe: z
    .strictObject({
      interval: z.number().int().min(1).max(3600).default(10),
      /** Seconds ping waits for a reply. */
      wait: z.number().int().min(1).max(60).default(1),
      /** How many probe targets must answer: any (1) up to all. */
      require: z.union([z.literal('any'), z.literal('all'), z.number().int().min(1)]).default('any'),
      /** moat hysteresis extension; omit both for plain OpenBSD syntax. */
      rise: z.number().int().min(1).max(100).optional(),
      fall: z.number().int().min(1).max(100).optional(),
      timeout: z.number().int().min(1).max(3600).optional(),
    })
    .default({ interval: 10, wait: 1, require: 'any' }),
  /** Traffic kept on one uplink while it is up (falls back to the others). */
  pinned: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9_-]+$/),
        proto: z.enum(['tcp', 'udp']),
        port: z.union([z.number().int().min(1).max(65535), z.string().regex(/^[a-z][a-z0-9-]*$/)]),
        uplink: name,
      }),
    )
    .default([]),
  /** Preference order for the host's own default route; default: the uplinks' order. */
  defaultRoute: z.array(name).optional(),
});

/** The spec, with the cross-field rules reported at the field at fault (file:line:col). */
export const multiwanSchema = fields.superRefine((spec, ctx) => {
  for (const p of multiwanProblems(spec)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});

export type MultiwanSpec = z.infer<typeof fields>;
export type Uplink = z.infer<typeof uplinkSchema>;
