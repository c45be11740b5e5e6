// The file `moat bpf filter -w OUT` writes: a temporary file beside OUT,
// renamed over it only when the run succeeds, so a bad filter, an unreadable
// input or a full disk never leaves OUT truncated. The same rule as core's
// writeFilesAtomically, for output that is streamed rather than held whole.
import { constants } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MoatError, errnoReason, isErrnoException, lazyCrypto } from '../core/index.js';

export interface OutputFile {
  /** The path to write the capture to (the temporary file, or OUT itself). */
  readonly path: string;
  /** Put what was written in place of OUT. */
  commit(): Promise<void>;
  /** Throw away what was written; OUT is as it was. */
  abandon(): Promise<void>;
}

/**
 * Prepare to write `target`. A device or FIFO (`-w /dev/null`, a named pipe)
 * cannot be replaced by a rename and is written directly; anything else
 * (a regular file, a symlink, nothing yet) gets a fresh temporary file in the
 * same directory, created with O_EXCL and never through a symlink.
 */
export async function prepareOutput(target: string): Promise<OutputFile> {
  const st = await lstat(target).catch((e: unknown) => {
    if (isErrnoException(e) && e.code === 'ENOENT') return undefined;
    throw cannotCreate(target, e);
  });
  if (st !== undefined && !st.isFile() && !st.isSymbolicLink()) {
    return { path: target, commit: () => Promise.resolve(), abandon: () => Promise.resolve() };
  }
  const tmp = join(dirname(target), `.${basename(target)}.${lazyCrypto().randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    await fh.close();
  } catch (e) {
    throw cannotCreate(target, e);
  }
  return {
    path: tmp,
    commit: async () => {
      try {
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { force: true });
        throw cannotCreate(target, e);
      }
    },
    abandon: () => rm(tmp, { force: true }),
  };
}

function cannotCreate(target: string, e: unknown): MoatError {
  return new MoatError('MOAT_PCAP_CREATE', `${target}: ${errnoReason(e)}`, { cause: e });
}
