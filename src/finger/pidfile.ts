import { closeSync, constants, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { MoatError, errorMessage } from '../core/index.js';

/**
 * Write our pid. O_NOFOLLOW: a pid directory writable by the service user
 * (the seed's rc.d chowns it to nobody) must not let a planted symlink
 * redirect the write.
 */
export function writePidfile(path: string, pid = process.pid): void {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, `${String(pid)}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new MoatError('MOAT_FINGER_PIDFILE', `cannot write pidfile ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Remove the pidfile if it still names us; a successor's file is left alone. */
export function removePidfile(path: string, pid = process.pid): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(pid)) unlinkSync(path);
  } catch {
    // Already gone, or not ours to remove.
  }
}
