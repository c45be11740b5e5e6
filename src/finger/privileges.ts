import { readFileSync } from 'node:fs';
import { MoatError, errorMessage } from '../core/index.js';

export interface Identity {
  uid: number;
  gid: number;
}

/**
 * `--run-as-user name|uid:gid`. A name is looked up in /etc/passwd (of the
 * host, read before any jail is entered); `uid:gid` needs no passwd at all,
 * as the seed's jail has none. FreeBSD's nobody is 65534:65534, not -2:-2.
 */
export function resolveRunAsUser(spec: string, passwdFile = '/etc/passwd'): Identity {
  const ids = /^(\d{1,10}):(\d{1,10})$/.exec(spec);
  if (ids) {
    const uid = Number(ids[1]);
    const gid = Number(ids[2]);
    if (uid > 0xfffffffe || gid > 0xfffffffe) throw new MoatError('MOAT_FINGER_USER_SPEC', `--run-as-user ${spec}: id out of range`);
    return { uid, gid };
  }
  if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(spec)) {
    throw new MoatError('MOAT_FINGER_USER_SPEC', `--run-as-user '${spec}': want a user name or uid:gid`);
  }
  let text: string;
  try {
    text = readFileSync(passwdFile, 'utf8');
  } catch (e) {
    throw new MoatError('MOAT_FINGER_USER', `--run-as-user ${spec}: cannot read ${passwdFile} (${errorMessage(e)}); give uid:gid instead`);
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === spec && f.length >= 4 && /^\d+$/.test(f[2] ?? '') && /^\d+$/.test(f[3] ?? '')) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new MoatError('MOAT_FINGER_USER', `--run-as-user ${spec}: no such user in ${passwdFile}`);
}

/** Is this process root (effective uid 0)? False where there are no uids. */
export function runningAsRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/**
 * Give up root for good: clear the supplementary groups first (only root
 * may), then the group, then the user (the order setuid(2) forces: after
 * setuid the others are no longer allowed). Then check that it held, so a
 * half-done drop can never go on serving.
 */
export function dropPrivileges(id: Identity): void {
  if (typeof process.setuid !== 'function' || typeof process.setgid !== 'function' || typeof process.setgroups !== 'function') {
    throw new MoatError('MOAT_FINGER_PRIVS', 'this platform cannot change user');
  }
  try {
    process.setgroups([]);
    process.setgid(id.gid);
    process.setuid(id.uid);
  } catch (e) {
    throw new MoatError('MOAT_FINGER_PRIVS', `cannot drop privileges to ${String(id.uid)}:${String(id.gid)}: ${errorMessage(e)}`, { cause: e });
  }
  const groups = process.getgroups?.() ?? [];
  const ok =
    process.getuid?.() === id.uid &&
    process.geteuid?.() === id.uid &&
    process.getgid?.() === id.gid &&
    process.getegid?.() === id.gid &&
    groups.every((g) => g === id.gid);
  if (!ok) throw new MoatError('MOAT_FINGER_PRIVS', 'privilege drop did not hold');
}
