// A directory tree seen the way a process chrooted into it would see it: every
// path is resolved component by component with lstat(2), absolute symlink
// targets restart at the tree's top, and nothing outside the tree is ever
// touched. Used for the source (a --sysroot, or the host's own /) and for the
// root being built, so a symlink planted in either can never lead us out.
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { MoatError, isErrnoException } from '../core/index.js';

/** One symbolic link met on the way: its in-tree path and its target as written. */
export interface Hop {
  link: string;
  target: string;
}

export interface Resolved {
  /** The physical in-tree path (absolute, no symlinks, no `..`). */
  path: string;
  /** Every symlink followed, in order. */
  hops: Hop[];
}

/** Linux's MAXSYMLINKS is 40; FreeBSD's is 32. */
const MAX_HOPS = 40;

export class Tree {
  /** The host directory that is `/` of this tree, without a trailing slash ('' for the host root). */
  private readonly prefix: string;
  private readonly statCache = new Map<string, Stats | null>();
  private readonly dirCache = new Map<string, ReadonlySet<string> | null>();
  private readonly linkCache = new Map<string, string>();

  constructor(
    readonly top: string,
    /** Cache lstat and readdir results: right for a source tree, wrong for one being written. */
    private readonly cached = true,
  ) {
    const norm = posix.resolve(top);
    this.prefix = norm === '/' ? '' : norm;
  }

  /** Is this the host's own root? Then `..` above the top is harmless, as in the kernel. */
  get isHostRoot(): boolean {
    return this.prefix === '';
  }

  /** The host path of an in-tree path (which must already be normalised). */
  host(inTree: string): string {
    return this.prefix + (inTree === '/' ? (this.prefix === '' ? '/' : '') : inTree);
  }

  lstat(inTree: string): Stats | null {
    if (this.cached) {
      const hit = this.statCache.get(inTree);
      if (hit !== undefined) return hit;
    }
    let st: Stats | null;
    try {
      // throwIfNoEntry: building an exception per missing candidate is most of the cost of a search.
      st = lstatSync(this.host(inTree), { throwIfNoEntry: false }) ?? null;
    } catch (e) {
      if (isErrnoException(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR' || e.code === 'EACCES')) st = null;
      else throw e;
    }
    if (this.cached) this.statCache.set(inTree, st);
    return st;
  }

  /** The target of a link at a physical in-tree path, as written. */
  readlink(inTree: string): string {
    let t = this.cached ? this.linkCache.get(inTree) : undefined;
    if (t === undefined) {
      t = readlinkSync(this.host(inTree));
      if (this.cached) this.linkCache.set(inTree, t);
    }
    return t;
  }

  /** The names in a physical in-tree directory, or null when it cannot be read. */
  list(inTree: string): ReadonlySet<string> | null {
    const hit = this.dirCache.get(inTree);
    if (hit !== undefined) return hit;
    let names: ReadonlySet<string> | null;
    try {
      names = new Set(readdirSync(this.host(inTree)));
    } catch {
      names = null;
    }
    if (this.cached) this.dirCache.set(inTree, names);
    return names;
  }

  /**
   * Resolve an in-tree path. Returns undefined when some component does not
   * exist (or is not a directory where one is needed). Symlink loops and, in
   * a tree that is not the host root, `..` climbing above the top are errors.
   */
  resolve(path: string, followLast = true): Resolved | undefined {
    const hops: Hop[] = [];
    const cur: string[] = [];
    const todo = splitPath(path).reverse();
    while (todo.length > 0) {
      const c = todo.pop() ?? '';
      if (c === '.') continue;
      if (c === '..') {
        if (cur.length === 0) {
          if (!this.isHostRoot) throw new MoatError('MOAT_ROOT_SYMLINK_ESCAPE', `${describe(this, path)}: climbs above the top of ${this.top}`);
          continue;
        }
        cur.pop();
        continue;
      }
      const here = `/${[...cur, c].join('/')}`;
      const st = this.lstat(here);
      if (st === null) return undefined;
      const last = todo.length === 0;
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (hops.length >= MAX_HOPS) throw new MoatError('MOAT_ROOT_SYMLINK_LOOP', `${describe(this, path)}: too many levels of symbolic links (a loop?)`);
        const target = this.readlink(here);
        hops.push({ link: here, target });
        if (target.startsWith('/')) cur.length = 0;
        todo.push(...splitPath(target).reverse());
        continue;
      }
      if (!last && !st.isDirectory()) return undefined;
      cur.push(c);
    }
    return { path: `/${cur.join('/')}`, hops };
  }
}

function describe(tree: Tree, path: string): string {
  return tree.isHostRoot ? path : `${path} (in ${tree.top})`;
}

export function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '');
}

/**
 * Rewrite a symlink target for the root being built: absolute targets become
 * relative to the link's directory, so the link resolves the same way from
 * inside the root and, when inspected from the host, stays inside it.
 */
export function relativeTarget(link: string, target: string): string {
  const dir = posix.dirname(link);
  if (!target.startsWith('/') && !climbsAbove(dir, target)) return target;
  // posix.normalize clamps `..` at / the way the kernel does.
  const abs = posix.normalize(target.startsWith('/') ? target : posix.join(dir, target));
  const rel = posix.relative(dir, abs);
  return rel === '' ? '.' : rel;
}

function climbsAbove(dir: string, target: string): boolean {
  let depth = splitPath(dir).length;
  for (const c of splitPath(target)) {
    if (c === '..') depth--;
    else if (c !== '.') depth++;
    if (depth < 0) return true;
  }
  return false;
}
