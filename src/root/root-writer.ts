// Writes into the root being built without ever leaving it: directories are
// walked with lstat(2) and a symlink met on the way is resolved inside the
// root (as the chrooted process would see it), never on the host; files are
// written to a fresh O_EXCL|O_NOFOLLOW temporary name and renamed into place,
// so a link planted at the destination is replaced, not written through.
import { chmodSync, closeSync, constants, existsSync, linkSync, lstatSync, mkdirSync, openSync, readlinkSync, renameSync, symlinkSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { copyFile, open, type FileHandle } from 'node:fs/promises';
import { hashFile } from './manifest.js';
import { posix } from 'node:path';
import { MoatError, isErrnoException, lazyCrypto } from '../core/index.js';
import { Tree, splitPath } from './tree.js';

export interface WrittenFile {
  /** Physical in-root path. */
  path: string;
  /** Undefined when nothing needed the digest (no manifest, no same-size twin). */
  sha256: string | undefined;
  size: number;
  mode: number;
  /** Set when the file was hard-linked to an identical one already in the root. */
  linkedTo: string | undefined;
  /** Set when setuid/setgid bits were removed. */
  strippedBits: number;
}

const CHUNK = 1 << 20;
let tmpCounter = 0;

function conflict(path: string, why: string): MoatError {
  return new MoatError('MOAT_ROOT_CONFLICT', `${path}: ${why}`);
}

export class RootWriter {
  readonly tree: Tree;
  private readonly bySize = new Map<number, { path: string; mode: number; sha256: string | undefined }[]>();

  constructor(
    readonly root: string,
    private readonly keepSetuid = false,
  ) {
    this.tree = new Tree(root, false);
  }

  private lstat(inRoot: string): Stats | undefined {
    try {
      return lstatSync(this.tree.host(inRoot));
    } catch (e) {
      if (isErrnoException(e) && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Make sure an in-root directory exists; returns its physical in-root path. */
  mkdirs(dir: string): string {
    let cur = '/';
    for (const c of splitPath(dir)) {
      if (c === '.' || c === '..') throw conflict(dir, 'has . or .. in it');
      const next = posix.join(cur, c);
      const st = this.lstat(next);
      if (st === undefined) {
        mkdirSync(this.tree.host(next), { mode: 0o755 });
        cur = next;
      } else if (st.isDirectory()) {
        cur = next;
      } else if (st.isSymbolicLink()) {
        // Follow it the chrooted way: inside the root only.
        const r = this.tree.resolve(next);
        if (r === undefined) throw conflict(next, 'is a dangling symbolic link where a directory is needed');
        if (this.lstat(r.path)?.isDirectory() !== true) throw conflict(next, 'leads to something that is not a directory');
        cur = r.path;
      } else {
        throw conflict(next, 'is a file where a directory is needed');
      }
    }
    return cur;
  }

  /** The physical in-root path a new entry named `path` would get. */
  private place(path: string): string {
    const parent = this.mkdirs(posix.dirname(path));
    const base = posix.basename(path);
    if (base === '' || base === '.' || base === '..') throw conflict(path, 'is not a file name');
    return posix.join(parent, base);
  }

  /** Create (or keep) a symlink; a different existing link is replaced. Returns whether anything changed. */
  symlink(link: string, target: string): boolean {
    const at = this.place(link);
    const st = this.lstat(at);
    if (st !== undefined) {
      if (st.isSymbolicLink()) {
        if (readlinkSync(this.tree.host(at)) === target) return false;
        unlinkSync(this.tree.host(at));
      } else {
        throw conflict(at, `already exists and is not a symbolic link (wanted one to ${target})`);
      }
    }
    symlinkSync(target, this.tree.host(at));
    return true;
  }

  /**
   * Copy a host file (opened with O_NOFOLLOW, so it must be the physical path)
   * to an in-root path. Identical content already written in this build is
   * hard-linked instead, where the filesystem allows; content is hashed only
   * when a manifest wants it or when another file has the same size.
   */
  async copy(hostSource: string, dest: string, wantHash = true): Promise<WrittenFile> {
    const at = this.place(dest);
    const existing = this.lstat(at);
    if (existing?.isDirectory() === true) throw conflict(at, 'is a directory');
    const src = await open(hostSource, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const tmp = `${posix.dirname(at)}/.moat-tmp-${String(process.pid)}-${String(++tmpCounter)}`;
    const tmpHost = this.tree.host(tmp);
    try {
      const st = await src.stat();
      if (!st.isFile()) throw new MoatError('MOAT_ROOT_NOT_FILE', `${hostSource}: not a regular file`);
      let mode = st.mode & 0o7777;
      const strippedBits = this.keepSetuid ? 0 : mode & 0o6000;
      mode &= ~strippedBits;
      const sameSize = this.bySize.get(st.size) ?? [];
      let sha256: string | undefined;
      if (wantHash || sameSize.length > 0) sha256 = await copyHashing(src, tmpHost);
      else await copyFast(src, tmpHost);
      chmodSync(tmpHost, mode);
      let linkedTo: string | undefined;
      for (const twin of sameSize) {
        if (twin.mode !== mode || twin.path === at) continue;
        twin.sha256 ??= hashFile(this.tree.host(twin.path));
        if (twin.sha256 !== sha256) continue;
        try {
          unlinkSync(tmpHost);
          linkSync(this.tree.host(twin.path), tmpHost);
          linkedTo = twin.path;
        } catch {
          linkedTo = undefined;
        }
        break;
      }
      renameSync(tmpHost, this.tree.host(at));
      if (linkedTo === undefined) this.bySize.set(st.size, [...sameSize, { path: at, mode, sha256 }]);
      return { path: at, sha256, size: st.size, mode, linkedTo, strippedBits };
    } catch (e) {
      try {
        unlinkSync(tmpHost);
      } catch {
        // It may never have been made.
      }
      throw e;
    } finally {
      await src.close();
    }
  }

  /** Write generated content (etc/passwd, ...) to an in-root path; its digest only when `wantHash`. */
  write(dest: string, content: string | Buffer, mode = 0o644, wantHash = true): WrittenFile {
    const at = this.place(dest);
    if (this.lstat(at)?.isDirectory() === true) throw conflict(at, 'is a directory');
    const tmp = `${posix.dirname(at)}/.moat-tmp-${String(process.pid)}-${String(++tmpCounter)}`;
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const fd = openSync(this.tree.host(tmp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    } finally {
      closeSync(fd);
    }
    chmodSync(this.tree.host(tmp), mode);
    renameSync(this.tree.host(tmp), this.tree.host(at));
    return { path: at, sha256: wantHash ? lazyCrypto().createHash('sha256').update(data).digest('hex') : undefined, size: data.length, mode, linkedTo: undefined, strippedBits: 0 };
  }
}

const OUT_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Copy an open file to a new path, hashing it on the way. */
async function copyHashing(src: FileHandle, tmpHost: string): Promise<string> {
  const out = await open(tmpHost, OUT_FLAGS, 0o600);
  try {
    const hash = lazyCrypto().createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      await out.write(chunk);
      pos += bytesRead;
    }
    return hash.digest('hex');
  } finally {
    await out.close();
  }
}

/**
 * Copy without reading the data into the process: copyFile(3) uses
 * copy_file_range(2) on Linux. It goes through /proc/self/fd so that the
 * file copied is the one we opened with O_NOFOLLOW, not whatever the name
 * points at now; where there is no /proc, it falls back to copyHashing.
 */
async function copyFast(src: FileHandle, tmpHost: string): Promise<void> {
  const viaFd = `/proc/self/fd/${String(src.fd)}`;
  if (process.platform === 'linux' && existsSync(viaFd)) {
    await copyFile(viaFd, tmpHost, constants.COPYFILE_EXCL);
    return;
  }
  await copyHashing(src, tmpHost);
}
