// The library closure of an executable, found the way the dynamic loader
// would find it, from ELF headers alone. glibc's order is from elf/dl-load.c
// (_dl_map_object) and ld.so(8); FreeBSD's from rtld.c (find_library) and
// rtld(1). Nothing here ever runs the file.
import { posix } from 'node:path';
import { MoatError } from '../core/index.js';
import { DF_1_NODEFLIB, NotElfError, readElf, type ElfInfo } from './elf-reader.js';
import { libMapLookup, readElfHints, readLibMap, type LibMap } from './freebsd-rtld.js';
import { readLdSoConf } from './ld-so-conf.js';
import { compatible, defaultInterp, expandTokens, hwcapsSubdirs, splitSearchPath, systemDirs, targetOf, type Target, type TargetOs } from './platform.js';
import { Tree, type Hop, type Resolved } from './tree.js';

export interface LoadedObject {
  /** The name it was first asked for by (a DT_NEEDED string, or the path given). */
  request: string;
  /** The in-tree path it was found at, before symlinks. */
  path: string;
  /** The physical in-tree path. */
  real: string;
  /** Symlinks followed from `path` to `real`. */
  hops: Hop[];
  elf: ElfInfo;
  /** The object whose DT_NEEDED brought it in (glibc's l_loader). */
  loader: LoadedObject | undefined;
  /** Every name it has answered to, as glibc's l_libname list. */
  names: Set<string>;
}

export interface Missing {
  name: string;
  neededBy: string;
  why: string;
}

export interface Closure {
  main: LoadedObject;
  target: Target;
  /** The interpreter as named (PT_INTERP, or the default for a shared object) and what it resolved to. */
  interp: { request: string; object: LoadedObject | undefined } | undefined;
  /** Libraries in load (breadth-first) order; neither main nor the interpreter. */
  libs: LoadedObject[];
  missing: Missing[];
  /** Candidates skipped on the way (wrong class, not ELF, ...), for --verbose. */
  skipped: string[];
}

export interface ResolverOptions {
  /** The OS the tree holds, when the binaries do not say; guessed from the tree otherwise. */
  os?: TargetOs;
}

/** A guess at the tree's OS: FreeBSD's rtld lives at /libexec/ld-elf.so.1. */
/** Candidate names looked up one by one in a directory before it is listed instead. */
const PROBES_BEFORE_LISTING = 32;

export function treeOs(tree: Tree): TargetOs {
  return tree.resolve('/libexec/ld-elf.so.1') !== undefined ? 'freebsd' : 'linux';
}

export class Resolver {
  readonly os: TargetOs;
  private readonly elfCache = new Map<string, ElfInfo | Error>();
  private readonly dirCache = new Map<string, Resolved | undefined>();
  private confDirs: string[] | undefined;
  private libmap: LibMap | undefined;
  private readonly hints = new Map<number, string[]>();
  private readonly sysDirs = new Map<string, string[]>();
  private readonly defaultMemo = new Map<string, { path: string; rule: boolean } | null>();
  private readonly hwcaps = new Map<string, string[]>();
  private readonly probes = new Map<string, number>();

  constructor(
    readonly tree: Tree,
    options: ResolverOptions = {},
  ) {
    this.os = options.os ?? treeOs(tree);
  }

  /** Read (and cache) the ELF headers of a physical in-tree path. */
  elfAt(real: string): ElfInfo {
    let hit = this.elfCache.get(real);
    if (hit === undefined) {
      try {
        hit = readElf(this.tree.host(real), real);
      } catch (e) {
        hit = e instanceof Error ? e : new Error(String(e));
      }
      this.elfCache.set(real, hit);
    }
    if (hit instanceof Error) throw hit;
    return hit;
  }

  /** The closure of one file (an in-tree path). Throws if the file itself is missing or not ELF. */
  closure(file: string): Closure {
    const abs = posix.resolve('/', file);
    const r = this.tree.resolve(abs);
    if (r === undefined) throw new MoatError('MOAT_ROOT_NO_FILE', `${abs}: no such file`);
    const elf = this.elfAt(r.path);
    const main: LoadedObject = { request: file, path: abs, real: r.path, hops: r.hops, elf, loader: undefined, names: new Set([file]) };
    const target = targetOf(elf, this.os);
    const c: Closure = { main, target, interp: undefined, libs: [], missing: [], skipped: [] };
    // No interpreter and nothing needed: a static executable, static PIE, or a library with no dependencies.
    if (elf.interp === undefined && elf.needed.length === 0) return c;
    const loaded: LoadedObject[] = [main];
    const interpName = elf.interp ?? defaultInterp(target);
    if (interpName !== undefined) {
      const obj = this.interpreter(interpName, c);
      c.interp = { request: interpName, object: obj };
      if (obj !== undefined) loaded.push(obj);
    }
    // Breadth-first, as _dl_map_object_deps does: each object's DT_NEEDED in order.
    // An array iterator also visits what is pushed while it runs, which is the queue we want.
    for (const obj of loaded) {
      for (const name of obj.elf.needed) {
        const found = this.find(name, obj, main, loaded, c);
        if (found === undefined) {
          if (!c.missing.some((m) => m.name === name)) c.missing.push({ name, neededBy: obj.path, why: 'not found' });
        }
      }
    }
    const interpObj = c.interp?.object;
    c.libs = loaded.filter((o) => o !== main && o !== interpObj);
    return c;
  }

  private interpreter(name: string, c: Closure): LoadedObject | undefined {
    let r: Resolved | undefined;
    try {
      r = this.tree.resolve(name);
    } catch (e) {
      c.missing.push({ name, neededBy: c.main.path, why: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
    if (r === undefined) {
      c.missing.push({ name, neededBy: c.main.path, why: 'interpreter not found' });
      return undefined;
    }
    let elf: ElfInfo;
    try {
      elf = this.elfAt(r.path);
    } catch (e) {
      // A PT_INTERP naming a script or data file: the kernel would refuse it (ELIBBAD); we only read it.
      const why = e instanceof NotElfError ? 'interpreter is not an ELF file' : e instanceof Error ? e.message : String(e);
      c.missing.push({ name, neededBy: c.main.path, why });
      return undefined;
    }
    const bad = compatible(c.target, elf);
    if (bad !== undefined) {
      c.missing.push({ name, neededBy: c.main.path, why: `interpreter is ${bad}` });
      return undefined;
    }
    const names = new Set([name]);
    if (elf.soname !== undefined) names.add(elf.soname);
    return { request: name, path: name, real: r.path, hops: r.hops, elf, loader: undefined, names };
  }

  private find(name: string, loader: LoadedObject, main: LoadedObject, loaded: LoadedObject[], c: Closure): LoadedObject | undefined {
    const linux = c.target.os === 'linux';
    // FreeBSD: libmap.conf(5) may rename the request for this referencing object.
    const wanted = linux ? name : (libMapLookup(this.libMap(), loader.path, name) ?? name);
    // Already loaded under this name or SONAME: glibc's _dl_name_match_p plus the DT_SONAME check.
    for (const o of loaded) {
      if (o.names.has(wanted) || o.elf.soname === wanted) {
        o.names.add(wanted);
        return o;
      }
    }
    const origin = (o: LoadedObject): string => posix.dirname(o === main ? o.real : o.path);
    const accept = (path: string, sonameRule: boolean): LoadedObject | undefined => this.candidate(path, wanted, name, sonameRule, loader, loaded, c);
    if (wanted.includes('/')) {
      const p = expandTokens(wanted, c.target, origin(loader), this.tree);
      return p === undefined ? undefined : accept(posix.resolve('/', p), false);
    }
    const searchIn = (list: string | undefined, owner: LoadedObject): LoadedObject | undefined => {
      if (list === undefined) return undefined;
      for (const raw of splitSearchPath(list)) {
        const dir = expandTokens(raw, c.target, origin(owner), this.tree);
        if (!dir?.startsWith('/')) continue;
        const hit = this.searchDir(dir, accept, false, c.target);
        if (hit !== undefined) return hit;
      }
      return undefined;
    };
    const nodeflib = (loader.elf.flags1 & DF_1_NODEFLIB) !== 0;
    if (linux) {
      // DT_RPATH of the loader, then of its loader, up to the executable, unless the loader has DT_RUNPATH.
      if (loader.elf.runpath === undefined) {
        let sawMain = false;
        for (let l: LoadedObject | undefined = loader; l !== undefined; l = l.loader) {
          const hit = searchIn(l.elf.rpath, l);
          if (hit !== undefined) return hit;
          if (l === main) sawMain = true;
        }
        if (!sawMain) {
          const hit = searchIn(main.elf.rpath, main);
          if (hit !== undefined) return hit;
        }
      }
      const hit = searchIn(loader.elf.runpath, loader);
      if (hit !== undefined) return hit;
      if (nodeflib) return undefined;
      return this.memoised(wanted, c.target, accept, (tryAt) => {
        // ld.so.cache: ldconfig indexes the ld.so.conf and system directories by SONAME.
        const sys = this.systemDirs(c.target);
        for (const dir of [...this.ldSoConf(), ...sys]) {
          const h = this.searchDir(dir, (p) => tryAt(p, true), true, c.target);
          if (h !== undefined) return h;
        }
        for (const dir of sys) {
          const h = this.searchDir(dir, tryAt, false, c.target);
          if (h !== undefined) return h;
        }
        return undefined;
      });
    }
    // FreeBSD rtld find_library: rpath, the executable's rpath, runpath, hints, the standard path.
    const h1 = searchIn(loader.elf.rpath, loader);
    if (h1 !== undefined) return h1;
    if (loader.elf.runpath === undefined && loader !== main) {
      const h2 = searchIn(main.elf.rpath, main);
      if (h2 !== undefined) return h2;
    }
    const h3 = searchIn(loader.elf.runpath, loader);
    if (h3 !== undefined || nodeflib) return h3;
    return this.memoised(wanted, c.target, accept, (tryAt) => {
      for (const dir of [...this.elfHints(c.target.bits), ...this.systemDirs(c.target)]) {
        const h = this.searchDir(dir, tryAt, false, c.target);
        if (h !== undefined) return h;
      }
      return undefined;
    });
  }

  /**
   * The default directories give the same answer for a name whoever asks, so
   * remember where (or that nowhere) it was found; thousands of closures
   * over /usr/bin then cost one search per library name.
   */
  private memoised(
    name: string,
    target: Target,
    accept: (path: string, sonameRule: boolean) => LoadedObject | undefined,
    search: (tryAt: (path: string, sonameRule: boolean) => LoadedObject | undefined) => LoadedObject | undefined,
  ): LoadedObject | undefined {
    const key = `${targetKey(target)}\0${name}`;
    const memo = this.defaultMemo.get(key);
    if (memo === null) return undefined;
    if (memo !== undefined) return accept(memo.path, memo.rule);
    let hit: { path: string; rule: boolean } | undefined;
    const found = search((path, rule) => {
      const o = accept(path, rule);
      if (o !== undefined) hit = { path, rule };
      return o;
    });
    this.defaultMemo.set(key, hit ?? null);
    return found;
  }

  /** Try `dir/<hwcaps subdir>/name` then `dir/name`; the ld.so.cache simulation only knows glibc-hwcaps. */
  private searchDir(dir: string, accept: (path: string, sonameRule: boolean) => LoadedObject | undefined, cacheOnly: boolean, target: Target): LoadedObject | undefined {
    const key = `${targetKey(target)}:${String(cacheOnly)}`;
    let subs = this.hwcaps.get(key);
    if (subs === undefined) {
      subs = hwcapsSubdirs(target).filter((s) => !cacheOnly || s.startsWith('glibc-hwcaps/'));
      this.hwcaps.set(key, subs);
    }
    for (const sub of [...subs, '']) {
      const d = sub === '' ? dir : `${dir}/${sub}`;
      const hit = accept(d, cacheOnly);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  /**
   * Is `base` known not to be in the physical directory `dir`? The first
   * probes of a directory are left to lstat(2) (a build of a few binaries
   * asks a few names); a directory probed more often is read once, and its
   * listing answers the rest without a system call (a closure of all of
   * /usr/bin asks thousands).
   */
  private surelyAbsent(dir: string, base: string): boolean {
    const n = (this.probes.get(dir) ?? 0) + 1;
    this.probes.set(dir, n);
    if (n <= PROBES_BEFORE_LISTING) return false;
    return this.tree.list(dir)?.has(base) !== true;
  }

  private resolveDir(dir: string): Resolved | undefined {
    if (this.dirCache.has(dir)) return this.dirCache.get(dir);
    let r: Resolved | undefined;
    try {
      r = this.tree.resolve(dir);
    } catch {
      r = undefined;
    }
    if (r !== undefined && this.tree.lstat(r.path)?.isDirectory() !== true) r = undefined;
    this.dirCache.set(dir, r);
    return r;
  }

  /**
   * Is `name` in `dir` (or, when `dir` is a full path, the file itself) a
   * loadable object for this target? glibc's open_verify skips wrong-class
   * and non-ELF files and keeps searching.
   */
  private candidate(dirOrPath: string, name: string, request: string, sonameRule: boolean, loader: LoadedObject, loaded: LoadedObject[], c: Closure): LoadedObject | undefined {
    const isPath = name.includes('/');
    const dir = isPath ? posix.dirname(dirOrPath) : dirOrPath;
    const base = isPath ? posix.basename(dirOrPath) : name;
    if (sonameRule && !((base.startsWith('lib') || base.startsWith('ld-')) && base.includes('.so'))) return undefined;
    const d = this.resolveDir(dir);
    if (d === undefined) return undefined;
    if (this.surelyAbsent(d.path, base)) return undefined;
    let f: Resolved | undefined;
    try {
      f = this.tree.resolve(`${d.path === '/' ? '' : d.path}/${base}`);
    } catch (e) {
      c.skipped.push(`${dir}/${base}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    if (f === undefined || this.tree.lstat(f.path)?.isFile() !== true) return undefined;
    let elf: ElfInfo;
    try {
      elf = this.elfAt(f.path);
    } catch (e) {
      c.skipped.push(`${dir}/${base}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    const bad = compatible(c.target, elf);
    if (bad !== undefined) {
      c.skipped.push(`${dir}/${base}: ${bad}`);
      return undefined;
    }
    if (sonameRule && elf.soname !== undefined && elf.soname !== name) return undefined;
    const real = f.path;
    // The same file under another name is the same object (glibc compares st_dev/st_ino).
    const same = loaded.find((o) => o.real === real);
    if (same !== undefined) {
      same.names.add(name).add(request);
      return same;
    }
    const path = `${dir}/${base}`;
    const obj: LoadedObject = { request, path, real, hops: [...d.hops, ...f.hops], elf, loader, names: new Set([name, request]) };
    loaded.push(obj);
    return obj;
  }

  private systemDirs(t: Target): string[] {
    const key = targetKey(t);
    let d = this.sysDirs.get(key);
    if (d === undefined) {
      d = systemDirs(t, this.tree);
      this.sysDirs.set(key, d);
    }
    return d;
  }

  private ldSoConf(): string[] {
    this.confDirs ??= readLdSoConf(this.tree);
    return this.confDirs;
  }

  private libMap(): LibMap {
    this.libmap ??= readLibMap(this.tree);
    return this.libmap;
  }

  private elfHints(bits: 32 | 64): string[] {
    let h = this.hints.get(bits);
    if (h === undefined) {
      h = readElfHints(this.tree, bits);
      this.hints.set(bits, h);
    }
    return h;
  }
}

/** Every object a closure needs, main first, each once. */
export function closureObjects(c: Closure): LoadedObject[] {
  const out = [c.main];
  if (c.interp?.object !== undefined) out.push(c.interp.object);
  out.push(...c.libs);
  return out;
}

function targetKey(t: Target): string {
  return `${t.os}/${String(t.bits)}/${String(t.littleEndian)}/${String(t.machine)}`;
}
