// etc/ld.so.cache for a Linux root, written by the host's ldconfig(8) with
// -r (it chroots into the root, so links inside the root resolve inside it)
// and -X (no soname links: the build lays those out itself).
//
// ldconfig only reads files whose names look like shared objects, so it can
// run while larger files (the main binaries) are still being copied: every
// file is written under a temporary name and renamed into place when
// complete, so ldconfig never sees half a file, and it only has to wait for
// the files it could read (`mayBeReadByLdconfig`).
import { existsSync, lstatSync, rmdirSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import { MoatError, isErrnoException, lazyChildProcess } from '../core/index.js';

export type LdconfigStatus = 'written' | 'skipped' | 'failed';

/** A runaway ldconfig is killed after this long; the build then reports 'failed'. */
const LDCONFIG_TIMEOUT_MS = 60_000;

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The host's ldconfig, if any (Debian: /usr/sbin, older layouts /sbin). */
function findLdconfig(): string | undefined {
  return ['/usr/sbin/ldconfig', '/sbin/ldconfig'].find((p) => existsSync(p));
}

/**
 * Can ldconfig read a file of this name? glibc (elf/dl-is_dso.h) takes
 * lib*.so*, ld-*.so*, ld.so.* and ld64.so.*; any name holding ".so" is a
 * superset of those (and covers etc/ld.so.cache itself, should a --file
 * put one there).
 */
export function mayBeReadByLdconfig(dest: string): boolean {
  return posix.basename(dest).includes('.so');
}

/**
 * Whether ldconfig can run here: it must exist and we must be root (-r
 * chroots). `required` (an explicit --ldconfig) turns "cannot" into an error.
 */
export function ldconfigUsable(required: boolean): string | undefined {
  const ldconfig = findLdconfig();
  if (ldconfig === undefined || !isRoot()) {
    if (required) throw new MoatError('MOAT_ROOT_LDCONFIG', 'ldconfig -r needs ldconfig and root privileges');
    return undefined;
  }
  return ldconfig;
}

/**
 * Run `ldconfig -X -r ROOT` without blocking the event loop (copies go on
 * meanwhile), then remove the aux-cache it leaves under var/cache/ldconfig:
 * a minimal root does not want it. var/cache and var are removed only if
 * this run made them and they are empty again (a file copied into var
 * meanwhile stays).
 */
export async function runLdconfig(ldconfig: string, root: string): Promise<LdconfigStatus> {
  const hadVar = isRealDir(root, '/var');
  const hadCache = isRealDir(root, '/var/cache');
  const ok = await new Promise<boolean>((resolve) => {
    const child = lazyChildProcess().spawn(ldconfig, ['-X', '-r', root], { stdio: 'ignore', timeout: LDCONFIG_TIMEOUT_MS, shell: false });
    child.on('error', () => {
      resolve(false);
    });
    child.on('close', (code) => {
      resolve(code === 0);
    });
  });
  if (isRealDir(root, '/var/cache/ldconfig')) rmSync(`${root}/var/cache/ldconfig`, { recursive: true, force: true });
  if (!hadCache) removeEmptyDir(root, '/var/cache');
  if (!hadVar) removeEmptyDir(root, '/var');
  return ok ? 'written' : 'failed';
}

/** Is every component of this in-root path a real directory (no symlink anywhere)? */
function isRealDir(root: string, inRoot: string): boolean {
  let cur = root;
  for (const c of inRoot.split('/').filter((x) => x !== '')) {
    cur = `${cur}/${c}`;
    try {
      if (!lstatSync(cur).isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** rmdir(2) an in-root directory reached without symlinks, if it is empty. */
function removeEmptyDir(root: string, inRoot: string): void {
  if (!isRealDir(root, inRoot)) return;
  try {
    rmdirSync(`${root}${inRoot}`);
  } catch (e) {
    if (!(isErrnoException(e) && (e.code === 'ENOTEMPTY' || e.code === 'EEXIST' || e.code === 'ENOENT'))) throw e;
  }
}
