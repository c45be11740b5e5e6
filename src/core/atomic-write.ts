import { constants } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { MoatError } from './errors.js';
import { lazyCrypto } from './lazy-builtin.js';

/**
 * Write a set of files under `outDir` so that each one appears whole or not
 * at all: write to a fresh temporary file beside it (O_EXCL, never following
 * a planted symlink), fsync, then rename over the target. Names are checked
 * so that nothing lands outside `outDir`.
 */
export async function writeFilesAtomically(
  outDir: string,
  files: readonly { path: string; content: string | Uint8Array; mode?: number }[],
): Promise<string[]> {
  const written: string[] = [];
  for (const f of files) {
    const rel = normalize(f.path);
    if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
      throw new MoatError('MOAT_OUT_PATH', `refusing to write outside ${outDir}: ${f.path}`);
    }
    const target = join(outDir, rel);
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${lazyCrypto().randomBytes(6).toString('hex')}.tmp`);
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, f.mode ?? 0o644);
    try {
      await fh.writeFile(f.content);
      await fh.sync();
    } catch (e) {
      await fh.close();
      await rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    await rename(tmp, target);
    written.push(target);
  }
  return written;
}
