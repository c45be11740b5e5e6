import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { MoatError, errnoReason } from '../core/errors.js';

// O_NOFOLLOW: a pid directory writable by the service user (the seed's rc.d
// chowns it to nobody) must not let a planted symlink redirect the write.
// O_NONBLOCK: a planted FIFO must not hang the start. No O_TRUNC: the file is
// checked before anything is changed.
const OPEN_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Write our pid, as root before the privilege drop. A planted symlink is
 * refused by open(2); a planted hard link to another file (FreeBSD lets any
 * user link to files they cannot write) has a link count above one and is
 * refused before it is truncated.
 */
export function writePidfile(path: string, pid = process.pid): void {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ELOOP is what O_NOFOLLOW gives for a symlink (open(2)); FreeBSD says EMLINK.
    const why = code === 'ELOOP' || code === 'EMLINK' ? 'it is a symbolic link' : errnoReason(e);
    throw new MoatError('MOAT_FINGER_PIDFILE', `cannot write pidfile ${path}: ${why}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1) {
      throw new MoatError('MOAT_FINGER_PIDFILE', `cannot write pidfile ${path}: not a regular file with one link`);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${String(pid)}\n`);
  } catch (e) {
    if (e instanceof MoatError) throw e;
    throw new MoatError('MOAT_FINGER_PIDFILE', `cannot write pidfile ${path}: ${errnoReason(e)}`, { cause: e });
  } finally {
    closeSync(fd);
  }
}

/** Remove the pidfile if it still names us; a successor's file is left alone. */
export function removePidfile(path: string, pid = process.pid): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(pid)) unlinkSync(path);
  } catch {
    // Already gone, not ours to remove, or in a directory the dropped user cannot write.
  }
}
