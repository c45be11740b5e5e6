// Finding ELF files on this machine, for the ldd oracle test and the root benchmark.
import { closeSync, openSync, readSync } from 'node:fs';

/** Whether `p` starts with the ELF magic (\x7fELF); unreadable files are not. */
export function isElf(p: string): boolean {
  try {
    const fd = openSync(p, 'r');
    try {
      const b = Buffer.alloc(4);
      return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === '\x7fELF';
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
