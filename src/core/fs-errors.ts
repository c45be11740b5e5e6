// File-system errors as a BSD tool words them: the path, strerror(3)'s text,
// and a sysexits(3) status that says which side failed. Every tool maps its
// errno errors here, and runCommand maps any that escape, so a user's missing
// file or unwritable directory is never reported as an internal error.
import { MoatError, errnoReason, isErrnoException } from './errors.js';

/** Which way the file was being used when the call failed. */
export type FileAccess = 'read' | 'write';

// Calls that create or change something: their failure is "cannot create".
// Everything else that names a path (open, stat, lstat, readlink, scandir,
// access, realpath) is taken as reading it.
const WRITE_SYSCALLS = new Set([
  'mkdir', 'mkdtemp', 'rename', 'write', 'symlink', 'link', 'copyfile', 'unlink', 'rmdir', 'rm',
  'chmod', 'fchmod', 'chown', 'fchown', 'lchown', 'utime', 'futime', 'truncate', 'ftruncate', 'fsync',
]);

/** Errors that say the caller may not do this, whatever the direction. */
const PERMISSION = new Set(['EACCES', 'EPERM']);

/**
 * Turn an errno error met while using `path` into a MoatError:
 * - permission (EACCES, EPERM): MOAT_FILE_PERM, EX_NOPERM (77);
 * - reading: MOAT_FILE_READ, EX_NOINPUT (66), "cannot read PATH: …";
 * - writing: MOAT_FILE_WRITE, EX_CANTCREAT (73), "cannot create PATH: …".
 * A value that is not an errno error is returned as it is, wrapped only if
 * it is not already a MoatError.
 */
export function fileError(e: unknown, path: string, access: FileAccess): MoatError {
  if (e instanceof MoatError) return e;
  const verb = access === 'read' ? 'read' : 'create';
  const why = errnoReason(e);
  if (isErrnoException(e) && e.code !== undefined && PERMISSION.has(e.code)) {
    return new MoatError('MOAT_FILE_PERM', `cannot ${verb} ${path}: ${why}`, { cause: e });
  }
  return new MoatError(access === 'read' ? 'MOAT_FILE_READ' : 'MOAT_FILE_WRITE', `cannot ${verb} ${path}: ${why}`, { cause: e });
}

/** Run `fn` on a path, mapping its errno errors with {@link fileError}. */
export async function onFile<T>(path: string, access: FileAccess, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fileError(e, path, access);
  }
}

// Errors of sockets and the system rather than of a named file.
const UNAVAILABLE = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Map an errno error that reached the command boundary without a tool
 * wording it: by its path and the system call, or, without a path, as a
 * service that is unavailable or an operating-system error. Returns
 * undefined for anything that is not an errno error (a bug, then).
 */
export function systemError(e: unknown): MoatError | undefined {
  if (!isErrnoException(e) || e.code === undefined || !/^E[A-Z0-9]+$/.test(e.code)) return undefined;
  if (typeof e.path === 'string') {
    const access: FileAccess = e.syscall !== undefined && WRITE_SYSCALLS.has(e.syscall) ? 'write' : 'read';
    // For a two-path call (rename, copyfile, link) the destination is what could not be made.
    const dest = (e as { dest?: unknown }).dest;
    const path = access === 'write' && typeof dest === 'string' ? dest : e.path;
    return fileError(e, path, access);
  }
  const what = e.syscall === undefined ? '' : `${e.syscall}: `;
  if (UNAVAILABLE.has(e.code)) return new MoatError('MOAT_SYSTEM_UNAVAILABLE', `${what}${errnoReason(e)}`, { cause: e });
  return new MoatError('MOAT_SYSTEM', `${what}${errnoReason(e)}`, { cause: e });
}
