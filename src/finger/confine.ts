/**
 * `moat finger --chroot DIR` and `--jail NAME|JID`: the daemon confines
 * itself once its sockets are bound and its pidfile written, so that DIR (or
 * the jail) needs to hold only data: the homes and finger.conf, mounted
 * noexec,nosuid,nodev and read-only. Seed 001 asked for exactly this
 * ("support for jail_attach(2) logic to fingerd, to let it self-jail, such
 * that nothing inside the jail needs to be mounted executable").
 *
 * The order, and why:
 *   1. bind, write the pidfile: both need the host's file system and root.
 *   2. preload: whatever Node or moat would otherwise load on first use, and
 *      would then look for inside DIR, where it is not: the native addon
 *      itself, lazily required built-ins (dgram, net), the time zone
 *      (glibc reads /etc/localtime once), the syslog connection.
 *   3. chroot(2) + chdir("/"), or jail_attach(2) (which sets root and cwd
 *      to the jail's path): paths the daemon opens from here on are inside.
 *   4. PR_SET_NO_NEW_PRIVS (Linux; PROC_NO_NEW_PRIVS_CTL on FreeBSD 14+):
 *      no execve(2) can gain privileges again, whatever DIR holds.
 *   5. setgroups([]), setgid, setuid (privileges.ts): last, because
 *      chroot(2) and jail_attach(2) need root.
 */
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { MoatError, errnoReason } from '../core/errors.js';
import { lazyDgram, lazyNet } from '../core/lazy-builtin.js';
import type { Logger } from '../core/logger.js';
import { requireNative, type NativeAddon } from '../core/native.js';
import type { FingerSettings } from './settings.js';
import { runningAsRoot } from './privileges.js';

/** What the command line asked for. */
export type ConfineRequest = { chroot: string } | { jail: string };

/** A request checked before anything is bound: the addon is loaded, DIR or the jail exists. */
export interface Confinement {
  readonly kind: 'chroot' | 'jail';
  /** DIR, or the jail's name or JID as given. */
  readonly target: string;
  readonly addon: NativeAddon;
  readonly jid?: number;
}

/** `--chroot DIR` or `--jail NAME|JID` as `--flag value`, for messages. */
export function describeConfine(r: ConfineRequest): string {
  return 'chroot' in r ? `--chroot ${r.chroot}` : `--jail ${r.jail}`;
}

/**
 * Check a request before binding, so that a mistake leaves no trace: the
 * addon must load (else EX_UNAVAILABLE, naming the build step), the process
 * must be root, DIR must be a directory, a jail must exist.
 */
export function prepareConfinement(r: ConfineRequest): Confinement {
  const flag = describeConfine(r);
  const addon = requireNative('chroot' in r ? '--chroot' : '--jail');
  if (!runningAsRoot()) throw new MoatError('MOAT_FINGER_CONFINE', `${flag} needs root: chroot(2) and jail_attach(2) are root's alone`);
  if ('chroot' in r) {
    const dir = r.chroot;
    if (!isAbsolute(dir)) throw new MoatError('MOAT_FINGER_CONFINE', `${flag}: want an absolute path`);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch (e) {
      throw new MoatError('MOAT_FINGER_CONFINE', `${flag}: ${errnoReason(e)}`, { cause: e });
    }
    if (!isDir) throw new MoatError('MOAT_FINGER_CONFINE', `${flag}: not a directory`);
    return { kind: 'chroot', target: dir, addon };
  }
  if (process.platform !== 'freebsd') throw new MoatError('MOAT_FINGER_CONFINE', `${flag}: jails are FreeBSD's; use --chroot DIR here`);
  let jid: number;
  try {
    jid = /^[1-9]\d{0,9}$/.test(r.jail) ? Number(r.jail) : addon.jailId(r.jail);
  } catch (e) {
    throw new MoatError('MOAT_FINGER_CONFINE', `${flag}: no such jail (${errnoReason(e)}); it must exist and persist (jail.conf: persist)`, { cause: e });
  }
  return { kind: 'jail', target: r.jail, addon, jid };
}

/**
 * Step 2: load now what would otherwise be loaded on first use, from paths
 * that will not exist inside DIR. Every module of moat finger is imported
 * statically, so it is loaded already; Node's built-ins come from the
 * executable itself, but are instantiated on first require.
 */
export async function preload(logger: Logger, what: string): Promise<void> {
  // The built-ins the daemon and its logger may first need after confinement:
  // dgram and net for syslog and forwarding. They come from the executable,
  // not from files, so this is for certainty, not for a path; node:crypto,
  // which no part of moat finger uses, is left out (it costs RSS).
  lazyDgram();
  lazyNet();
  // The time zone: V8's Date asks ICU for the host's zone (TZ, or the
  // /etc/localtime link) on its first local-time conversion, and ICU keeps it
  // as its default for the life of the process, for Intl too. Inside DIR
  // there is no /etc/localtime, and the zone would silently become UTC.
  // (Intl.DateTimeFormat itself is not called: its locale data costs ~8 MB
  // of RSS, and nothing in moat finger formats dates for people.)
  new Date().toString();
  // The syslog socket: a UDP socket is opened, a TCP or unix stream connected
  // by the first message; waiting for it to leave makes sure it has been.
  logger.info(`confining: ${what}`);
  await logger.flush();
}

/** Steps 3 and 4; the caller then drops groups, gid and uid (step 5). */
export function enter(c: Confinement): { noNewPrivs: boolean } {
  const step = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new MoatError('MOAT_FINGER_CONFINE_FAILED', `cannot confine to ${c.target}: ${what}: ${errnoReason(e)}`, { cause: e });
    }
  };
  if (c.kind === 'chroot') {
    step('chroot', () => {
      c.addon.chroot(c.target);
    });
  } else {
    step('jail_attach', () => {
      c.addon.jailAttach(c.jid ?? 0);
    });
  }
  step('chdir /', () => {
    c.addon.chdir('/');
  });
  // Node keeps process.cwd() cached until its own chdir: say "/" to it too.
  process.chdir('/');
  const noNewPrivs = step('no_new_privs', () => c.addon.noNewPrivs());
  return { noNewPrivs };
}

/** For --check: the settings' data paths as the host sees them under DIR. */
export function insideChroot(s: FingerSettings, dir: string): FingerSettings {
  const at = (p: string | undefined): string | undefined => (p === undefined ? undefined : join(dir, p));
  return { ...s, homes: join(dir, s.homes), aliases: at(s.aliases), passwd: at(s.passwd) };
}
