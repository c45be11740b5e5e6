// What the daemon checks before it binds anything, in one place, so that
// `moat finger -n` runs exactly these checks and fails where the daemon would.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { MoatError } from '../core/errors.js';
import { loadAliases, type AliasTarget } from './aliases.js';
import { loadPasswd, type PasswdEntry } from './passwd.js';
import { resolveRunAsUser, runningAsRoot, type Identity } from './privileges.js';
import type { FingerSettings } from './settings.js';

export interface Checked {
  aliases: ReadonlyMap<string, AliasTarget>;
  passwd: ReadonlyMap<string, PasswdEntry>;
  /** Whom to become after binding; undefined: stay as started. */
  identity: Identity | undefined;
  /** The uid and gid that will serve. */
  serving: Identity;
}

/**
 * Load finger.conf and the passwd file, check the homes directory, decide
 * about root, and check that whoever will serve can read the homes. Every
 * refusal is a MoatError with its exit status.
 */
export function startupChecks(s: FingerSettings): Checked {
  const files = loadData(s);
  const who = checkIdentity(s);
  checkHomesReadable(s.homes, who.identity, who.serving);
  return { ...files, ...who };
}

/** finger.conf and the passwd file, loaded, and the homes directory there. */
export function loadData(s: FingerSettings): Pick<Checked, 'aliases' | 'passwd'> {
  const aliases = s.aliases === undefined ? new Map<string, AliasTarget>() : loadAliases(s.aliases);
  const passwd = s.passwd === undefined ? new Map<string, PasswdEntry>() : loadPasswd(s.passwd);
  if (!statQuiet(s.homes)?.isDirectory()) throw new MoatError('MOAT_FINGER_HOMES', `homes directory ${s.homes} is not a directory`);
  return { aliases, passwd };
}

/** Refuse homes that `identity` (undefined: this process, asking the kernel) cannot read and enter. */
export function checkHomesReadable(homes: string, identity: Identity | undefined, serving: Identity): void {
  if (!homesReadable(homes, identity)) {
    throw new MoatError('MOAT_FINGER_PRIVS', `homes directory ${homes} is not readable by uid ${String(serving.uid)} gid ${String(serving.gid)}: every user would be unknown`);
  }
}

/** Root or not, and whom to become: refused here, before anything is bound. */
export function checkIdentity(s: FingerSettings): Pick<Checked, 'identity' | 'serving'> {
  let identity: Identity | undefined;
  if (s.runAsUser !== undefined) {
    identity = resolveRunAsUser(s.runAsUser);
    if (!runningAsRoot() && process.getuid?.() !== identity.uid) {
      throw new MoatError('MOAT_FINGER_PRIVS', `--run-as-user ${s.runAsUser} needs root to switch to`);
    }
    if (identity.uid === 0 && !s.allowRoot) throw refuseRoot();
  } else if (runningAsRoot() && !s.allowRoot) {
    throw refuseRoot();
  }
  const serving = identity ?? { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  return { identity, serving };
}

/**
 * Can the serving user list and enter `homes`? As the serving user, ask the
 * kernel. For a user we will switch to, read the mode bits of `homes` and of
 * every directory above it as access(2) would for that uid and gid (with no
 * supplementary groups, as the privilege drop leaves none); ACLs are not read,
 * so the daemon asks the kernel again once it has switched.
 */
export function homesReadable(homes: string, identity: Identity | undefined): boolean {
  if (identity === undefined || identity.uid === process.geteuid?.()) {
    try {
      accessSync(homes, constants.R_OK | constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  if (identity.uid === 0) return true;
  const st = statQuiet(homes);
  if (st === undefined || !allows(st, identity, 0o5)) return false;
  for (let dir = dirname(homes), prev = homes; dir !== prev; prev = dir, dir = dirname(dir)) {
    const d = statQuiet(dir);
    if (d === undefined || !allows(d, identity, 0o1)) return false;
  }
  return true;
}

/** Do the owner, group or other bits of `st` that apply to `id` include all of `want` (rwx as 4, 2, 1)? */
function allows(st: Stats, id: Identity, want: number): boolean {
  const shift = st.uid === id.uid ? 6 : st.gid === id.gid ? 3 : 0;
  return ((st.mode >> shift) & want) === want;
}

function refuseRoot(): MoatError {
  return new MoatError('MOAT_FINGER_ROOT', 'refusing to serve as root: give --run-as-user USER (or uid:gid), or --allow-root');
}

function statQuiet(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
