import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { sanitizeText } from './sanitize.js';

/** Why a file was not served; each is logged, none is shown to the client. */
export type FileRefusal = 'missing' | 'symlink' | 'not-regular' | 'wrong-owner' | 'too-large' | 'empty' | 'unreadable';

export type FileResult = { ok: true; text: string } | { ok: false; why: FileRefusal };

// Numbers, not bigints: lstat without bigint is cheaper on the hot path, and
// a double still resolves times to well under a microsecond today.
interface Entry {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  uid: number;
  text: string;
}

export interface FileCacheOptions {
  /** Largest file served, in bytes. */
  maxFileSize: number;
  /** Pass well-formed UTF-8 through (otherwise non-ASCII bytes become '?'). */
  utf8: boolean;
  /** Entries kept; the least recently used go first. */
  maxEntries?: number;
}

// O_NONBLOCK: opening a FIFO planted as .plan must not block the server.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Reads users' files safely and keeps their sanitised text, keyed by path and
 * validated by (dev, inode, size, mtime, and ctime, which no user can set) of the open descriptor, so a popular
 * .plan is read from disk once and a changed one is read again.
 *
 * Every lookup opens the path with O_NOFOLLOW and checks type, owner and size
 * with fstat on that descriptor: a symlink is refused by the kernel, and a file
 * swapped between any earlier check and the open is caught, because the
 * descriptor is what we read.
 */
export class FileCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  hits = 0;
  misses = 0;

  constructor(private readonly options: FileCacheOptions) {
    this.maxEntries = options.maxEntries ?? 4096;
  }

  /**
   * The sanitised text of `path`, if it is a regular file within the size
   * limit and, when `owner` is given, owned by that uid.
   */
  read(path: string, owner: number | undefined): FileResult {
    // First look at the path itself, without following it. For a file we have
    // already read, a matching (dev, inode, size, mtime) and owner means the
    // name still leads to the very inode whose content was read through a
    // checked descriptor, so the cached text is served without opening it.
    let pre;
    try {
      pre = lstatSync(path, { throwIfNoEntry: false });
    } catch {
      return { ok: false, why: 'unreadable' };
    }
    if (pre === undefined) return { ok: false, why: 'missing' };
    const early = refusal(pre, owner, this.options.maxFileSize);
    if (early !== undefined) return { ok: false, why: early };
    const cached = this.entries.get(path);
    if (cached !== undefined && same(cached, pre)) {
      this.hits++;
      // Refresh its place in the LRU order.
      this.entries.delete(path);
      this.entries.set(path, cached);
      return { ok: true, text: cached.text };
    }
    this.misses++;
    let fd: number;
    try {
      fd = openSync(path, OPEN_FLAGS);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ELOOP is what O_NOFOLLOW gives for a symlink (open(2)); FreeBSD says EMLINK.
      if (code === 'ELOOP' || code === 'EMLINK') return { ok: false, why: 'symlink' };
      if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, why: 'missing' };
      return { ok: false, why: 'unreadable' };
    }
    try {
      // Check again on the descriptor: the name may have been swapped since lstat.
      const st = fstatSync(fd);
      const late = refusal(st, owner, this.options.maxFileSize);
      if (late !== undefined) return { ok: false, why: late };
      const data = readBounded(fd, st.size, this.options.maxFileSize);
      if (data === undefined) return { ok: false, why: 'unreadable' };
      const text = sanitizeText(data, this.options.utf8);
      this.entries.delete(path);
      this.entries.set(path, { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, uid: st.uid, text });
      while (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (oldest.done === true) break;
        this.entries.delete(oldest.value);
      }
      return { ok: true, text };
    } finally {
      closeSync(fd);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

// Read at most `limit` bytes: the file may grow between fstat and read, and a
// file system may report a wrong size, so the stat size is only a hint.
function readBounded(fd: number, size: number, limit: number): Buffer | undefined {
  const buf = Buffer.alloc(Math.min(Math.max(size, 1), limit));
  let off = 0;
  try {
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
  } catch {
    return undefined;
  }
  return buf.subarray(0, off);
}

function refusal(st: Stats, owner: number | undefined, maxSize: number): FileRefusal | undefined {
  if (st.isSymbolicLink()) return 'symlink';
  if (!st.isFile()) return 'not-regular';
  if (owner !== undefined && st.uid !== owner) return 'wrong-owner';
  if (st.size > maxSize) return 'too-large';
  if (st.size === 0) return 'empty';
  return undefined;
}

function same(e: Entry, st: Stats): boolean {
  return e.dev === st.dev && e.ino === st.ino && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs && e.uid === st.uid;
}
