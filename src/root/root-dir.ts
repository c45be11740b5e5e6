// The root a command works in (run, verify) must already be a directory; a
// missing one is the user's input missing (66), not an internal error.
import { lstatSync } from 'node:fs';
import { MoatError, errnoReason, fileError, isErrnoException } from '../core/index.js';

/** `root` when it is a directory (not a symbolic link to one); otherwise a MoatError that says why. */
export function existingRoot(root: string): string {
  let st;
  try {
    st = lstatSync(root);
  } catch (e) {
    if (isErrnoException(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) throw new MoatError('MOAT_ROOT_NO_ROOT', `${root}: no such root directory: ${errnoReason(e)}`, { cause: e });
    throw fileError(e, root, 'read');
  }
  if (!st.isDirectory()) throw new MoatError('MOAT_ROOT_NO_ROOT', `${root}: not a directory`);
  return root;
}
