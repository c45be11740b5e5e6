// The jail spec: one small YAML file that describes a service and where it
// runs. Names that end up in shell scripts, jail.conf, fstab, pf.conf and a
// systemd unit are validated strictly here, so that the renderers only ever
// see values they can write safely; the few free-text fields (arguments,
// description, build note) refuse control characters and are always quoted.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { placeholderProblem } from './placeholders.js';

/** rc.subr builds variable names from it (`${name}_enable`), so no hyphens. */
const SH_NAME = /^[a-z][a-z0-9_]{0,31}$/;
/**
 * jail(8): a name that is a number is taken as a jid, and '.' separates
 * hierarchical jail names; keep to what needs no quoting in jail.conf(5).
 */
const JAIL_NAME = /^[a-z][a-z0-9_]{0,31}$/;
/** An absolute path whose components need no quoting anywhere we write it (fstab(5) has no quoting at all). */
const SAFE_PATH = /^(\/[A-Za-z0-9_.+,@=-]+)+$/;
/** zfsconcepts(7): dataset components are alphanumerics plus _ - : . */
const ZFS_COMPONENT = /^[A-Za-z0-9_:.-]+$/;
/** zpoolconcepts(7): a pool name starts with a letter; these names are reserved. */
const ZPOOL_NAME = /^[A-Za-z][A-Za-z0-9_:.-]{0,63}$/;
const ZPOOL_RESERVED = /^(mirror|raidz\d*|draid\d*|spare|log|c\d.*)$/;
/** ifconfig(8) names: letters then letters, digits, '.' (vlan) or '_'; IFNAMSIZ is 16 with the NUL. */
const IFNAME = /^[A-Za-z][A-Za-z0-9_.]{0,14}$/;
/** A user or group name as pw(8) accepts without trouble. */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const UID_GID = /^(\d{1,10}):(\d{1,10})$/;
/** Free text: anything printable. Newlines and other controls would break every file format we write. */
const NO_CONTROLS = /^[^\x00-\x1f\x7f]*$/;

/** systemd.resource-control(5) IPAddressAllow=: an address with an optional prefix length, or a symbolic name. */
function isAllowEntry(entry: string): boolean {
  if (['any', 'localhost', 'link-local', 'multicast'].includes(entry)) return true;
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry);
  const host = m?.[1] ?? '';
  const bits = m?.[2] === undefined ? 0 : Number(m[2]);
  if (isIPv4(host)) return bits <= 32;
  return isIPv6(host) && !host.includes('%') && bits <= 128;
}

const safePath = z
  .string()
  .regex(SAFE_PATH, 'must be an absolute path of letters, digits and _ . + , @ = - (no spaces, quotes or shell characters)')
  .refine((p) => !p.split('/').some((c) => c === '.' || c === '..'), { message: 'must not contain . or .. components' });
const freeText = z.string().max(4096).regex(NO_CONTROLS, 'must not contain control characters (newlines, tabs, NUL)');
const argument = freeText;
const port = z.number().int().min(1).max(65535);
// No IPv6 zone (fe80::1%em0): a jail address is global, and % is a systemd specifier.
const address = z.string().refine((a) => (isIPv4(a) || isIPv6(a)) && !a.includes('%'), { message: 'must be an IPv4 or IPv6 address, without a zone' });
const zfsRelative = z
  .string()
  .refine((d) => d.split('/').every((c) => ZFS_COMPONENT.test(c) && c !== '.' && c !== '..'), {
    message: 'must be a dataset path of letters, digits and _ : . - separated by /',
  });

const mount = z.strictObject({
  /** The host directory, e.g. the normal users' home directories. */
  from: safePath,
  /** Where it appears inside the jail. */
  to: safePath,
});

const copiedFile = z.strictObject({
  /** A host file copied into the jail while its dataset is writable. */
  from: safePath,
  to: safePath,
  mode: z.string().regex(/^0?[0-7]{3}$/, 'must be an octal mode such as 0444').default('0444'),
});

const redirect = z.strictObject({
  /** The unprivileged port the daemon listens on inside the jail. */
  port: port.min(1024, 'must be 1024 or above: the daemon runs unprivileged and cannot bind below 1024'),
  /** The host's public address that clients connect to. */
  publicAddress: address,
  /** Interfaces PF redirects on; include lo0 so that other jails on this host reach the service too. */
  interfaces: z.array(z.string().regex(IFNAME, 'must be an interface name such as bce1 or lo0')).min(1),
});

const zfs = z.strictObject({
  pool: z.string().regex(ZPOOL_NAME, 'must be a pool name: a letter, then letters, digits and _ : . -').refine((p) => !ZPOOL_RESERVED.test(p), {
    message: 'is a reserved pool name',
  }).default('zroot'),
  /** The dataset, relative to the pool, that holds every jail. */
  jails: zfsRelative.default('jails'),
  /** Where that dataset is mounted. */
  mountpoint: safePath.default('/jails'),
  /** The parent of the per-jail log datasets (not mounted itself; exec=off is inherited). */
  logs: zfsRelative.default('logs'),
});

const freebsd = z.strictObject({
  /** Arguments added on FreeBSD only, such as the daemon's own privilege drop. */
  args: z.array(argument).max(256).default([]),
  /** Where the rc.d script is installed; anything but the default is added to local_startup. */
  rcDir: safePath.default('/usr/local/etc/rc.d'),
});

const linux = z.strictObject({
  /** Arguments added on Linux only. */
  args: z.array(argument).max(256).default([]),
  /** `dynamic` for DynamicUser=yes (the default), or a static user that exists on the host. */
  user: z.string().regex(USER_NAME, 'must be a user name or "dynamic"').default('dynamic'),
  /** Address families beyond AF_INET and AF_INET6 (AF_UNIX for a local syslog socket, say). */
  addressFamilies: z.array(z.enum(['AF_UNIX', 'AF_NETLINK'])).default([]),
  /** IPAddressAllow= entries; the default lets anyone in, as a public service must. */
  ipAllow: z.array(z.string().refine(isAllowEntry, { message: 'must be an address, a prefix, or any/localhost/link-local/multicast' })).min(1).default(['any']),
  /** Set false for a JIT runtime such as node, which needs writable-executable memory. */
  memoryDenyWriteExecute: z.boolean().default(true),
  /**
   * systemd binds the port and passes it (sd_listen_fds(3)); the daemon then
   * needs no capability and no network of its own (PrivateNetwork=yes).
   */
  socketActivation: z.boolean().default(false),
});

export const jailSpecSchema = z
  .strictObject({
    /** The rc.d script name, rcvar prefix and systemd unit name. */
    service: z.string().regex(SH_NAME, 'must be a lowercase name of letters, digits and _ (it becomes an rc.conf variable)'),
    description: freeText.optional(),
    /** The jail's name in jail.conf; defaults to the service name. */
    jail: z.string().regex(JAIL_NAME, 'must be a lowercase name of letters, digits and _, starting with a letter').optional(),
    /** The daemon, as a path inside the jail; with selfJail, a path on the host. */
    binary: safePath,
    /** The host file (a static build) installed as `binary` at setup and on every update. */
    install: safePath,
    /**
     * The daemon confines itself (moat finger --jail/--chroot, seed 001's wish):
     * started from the host as root, it binds, enters the jail and drops to
     * runAs, so the jail holds no executable and its dataset is exec=off.
     */
    selfJail: z.boolean().default(false),
    /** Arguments on every OS. Placeholders: {address} {port} {logDir} {jail} {service}; {{ and }} are literal braces. */
    args: z.array(argument).max(256).default([]),
    /** `uid:gid` for a daemon that starts as root and drops itself (no passwd in the jail), or a host user for `jexec -u`. */
    runAs: z.string().refine((r) => UID_GID.test(r) || USER_NAME.test(r), { message: 'must be uid:gid (such as 65534:65534) or a user name' }),
    address,
    port,
    redirect: redirect.optional(),
    /** A pid file inside the jail, written by the daemon, so that rc.subr can find it. */
    pidfile: safePath.optional(),
    logDir: safePath.default('/log'),
    mounts: z.array(mount).max(64).default([]),
    files: z.array(copiedFile).max(64).default([]),
    /** The jail's root directory; defaults to zfs.mountpoint/jail. */
    root: safePath.optional(),
    zfs: zfs.default({ pool: 'zroot', jails: 'jails', mountpoint: '/jails', logs: 'logs' }),
    /** How the unprivileged build user rebuilds the binary, for the update procedure (text only, never run). */
    build: freeText.optional(),
    freebsd: freebsd.default({ args: [], rcDir: '/usr/local/etc/rc.d' }),
    linux: linux.default({ args: [], user: 'dynamic', addressFamilies: [], ipAllow: ['any'], memoryDenyWriteExecute: true, socketActivation: false }),
  })
  .superRefine((spec, ctx) => {
    const numeric = UID_GID.test(spec.runAs);
    if (spec.redirect === undefined && !numeric) {
      // Seed 001: there is no passwd inside the jail, so a daemon that drops
      // privileges itself must be given numbers.
      ctx.addIssue({ code: 'custom', path: ['runAs'], message: 'must be uid:gid when the daemon starts as root: the jail has no passwd to look a name up in' });
    }
    if (spec.selfJail && spec.redirect !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['selfJail'], message: 'a self-jailing daemon starts as root and drops itself: leave out redirect' });
    }
    if (spec.redirect !== undefined && numeric) {
      // jexec(8) -u takes a user name from the host's passwd.
      ctx.addIssue({ code: 'custom', path: ['runAs'], message: 'must be a host user name with redirect: jexec -u takes a name, not uid:gid' });
    }
    const m = UID_GID.exec(spec.runAs);
    if (m && (Number(m[1]) > 0xffffffff || Number(m[2]) > 0xffffffff)) {
      ctx.addIssue({ code: 'custom', path: ['runAs'], message: 'uid and gid must fit in 32 bits' });
    }
    if (m && (m[1] === '0' || m[2] === '0')) {
      ctx.addIssue({ code: 'custom', path: ['runAs'], message: 'must not be root (uid or gid 0)' });
    }
    const check = (list: readonly string[], path: (string | number)[], allowed: readonly string[]): void => {
      list.forEach((arg, i) => {
        const problem = placeholderProblem(arg, allowed);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [...path, i], message: problem });
      });
    };
    // {pidfile} and the run-as identity only mean something on FreeBSD: the
    // systemd unit drops privileges itself and needs no pid file.
    const common = ['address', 'port', 'logDir', 'jail', 'service'];
    const freebsdOnly = [...(spec.pidfile === undefined ? [] : ['pidfile']), ...(numeric ? ['uid', 'gid'] : ['user'])];
    // A self-jailing daemon drops to uid:gid itself on every OS.
    const selfIds = spec.selfJail && numeric ? ['uid', 'gid'] : [];
    check(spec.args, ['args'], [...common, ...selfIds]);
    check(spec.freebsd.args, ['freebsd', 'args'], [...common, ...freebsdOnly]);
    check(spec.linux.args, ['linux', 'args'], [...common, ...selfIds]);
    if (spec.pidfile !== undefined && !spec.pidfile.startsWith(`${spec.logDir}/`)) {
      // The jail dataset is read-only; the log dataset is the only place the daemon can write.
      ctx.addIssue({ code: 'custom', path: ['pidfile'], message: `must be under logDir (${spec.logDir}): the rest of the jail is read-only` });
    }
    // A noexec mount over the binary's directory, or any mount over the logs, would hide them.
    const covers = (outer: string, inner: string): boolean => inner === outer || inner.startsWith(`${outer}/`);
    spec.mounts.forEach((mnt, i) => {
      if ((!spec.selfJail && covers(mnt.to, spec.binary)) || covers(mnt.to, spec.logDir) || covers(spec.logDir, mnt.to)) {
        ctx.addIssue({ code: 'custom', path: ['mounts', i, 'to'], message: 'must not cover the binary or the log directory, nor lie inside the log directory' });
      }
    });
  });

/** A spec as written, with defaults filled in. */
export type JailSpec = z.infer<typeof jailSpecSchema>;
