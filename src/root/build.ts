// `moat root build` as a library function: resolve closures, plan the
// layout, write it with RootWriter, then ld.so.cache or ld-elf.so.hints, and
// the manifest.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { MoatError, Progress, installStatusLine, type Io } from '../core/index.js';
import { dlopenWarnings } from './dlopen-hints.js';
import { NotElfError, readElf } from './elf-reader.js';
import { planExtras } from './extras.js';
import { buildElfHints, readElfHints } from './freebsd-rtld.js';
import { scanRoot, type Manifest } from './manifest.js';
import { systemDirs } from './platform.js';
import { Resolver, closureObjects, type Closure, type LoadedObject } from './resolver.js';
import { RootWriter } from './root-writer.js';
import { traceOpens } from './trace.js';
import { Tree, relativeTarget, type Hop } from './tree.js';

export interface PathPair {
  /** In the source tree (the sysroot, or the host). */
  src: string;
  /** In the root; defaults to `src`. */
  dest?: string;
}

export interface BuildOptions {
  root: string;
  sysroot?: string;
  binaries: PathPair[];
  files?: PathPair[];
  with?: string[];
  keepSetuid?: boolean;
  manifest?: string;
  /** Run ldconfig -r to write etc/ld.so.cache (default: when it is there and we are root). */
  ldconfig?: boolean;
  /** Arguments to run the first binary with under strace. */
  trace?: string[];
  os?: 'linux' | 'freebsd';
}

export interface BuildReport {
  files: number;
  bytes: number;
  symlinks: number;
  hardlinks: number;
  ms: number;
  stripped: string[];
  warnings: string[];
  closures: Closure[];
  ldconfig: 'written' | 'skipped' | 'failed';
  /** Set when opts.manifest asked for one. */
  manifest: Manifest | undefined;
}

interface FileItem {
  dest: string;
  /** Physical path in the source tree. */
  srcReal: string;
  /** The path as named, for the manifest. */
  source: string;
}

class Plan {
  readonly files = new Map<string, FileItem>();
  readonly links = new Map<string, string>();

  hops(hops: readonly Hop[]): void {
    for (const h of hops) this.link(h.link, relativeTarget(h.link, h.target));
  }

  link(link: string, target: string): void {
    const had = this.links.get(link);
    if (had !== undefined && had !== target) throw new MoatError('MOAT_ROOT_CONFLICT', `${link}: wanted as a link to both ${had} and ${target}`, { exitCode: 65 });
    if (this.files.has(link)) throw new MoatError('MOAT_ROOT_CONFLICT', `${link}: wanted as both a file and a link`, { exitCode: 65 });
    this.links.set(link, target);
  }

  file(item: FileItem): void {
    const had = this.files.get(item.dest);
    if (had !== undefined && had.srcReal !== item.srcReal) throw new MoatError('MOAT_ROOT_CONFLICT', `${item.dest}: wanted from both ${had.source} and ${item.source}`, { exitCode: 65 });
    if (this.links.has(item.dest)) throw new MoatError('MOAT_ROOT_CONFLICT', `${item.dest}: wanted as both a file and a link`, { exitCode: 65 });
    this.files.set(item.dest, item);
  }

  object(o: LoadedObject): void {
    this.hops(o.hops);
    this.file({ dest: o.real, srcReal: o.real, source: o.path });
  }
}

const MAX_TREE_ENTRIES = 200_000;
/** Copies in flight at once: copy_file_range runs in libuv's pool of four threads. */
const COPY_CONCURRENCY = 4;

/** Add a source path (file, symlink chain, or whole directory) to the plan. */
function planPath(tree: Tree, plan: Plan, src: string, dest: string | undefined): void {
  const r = tree.resolve(src);
  if (r === undefined) throw new MoatError('MOAT_ROOT_NO_FILE', `${src}: no such file${tree.isHostRoot ? '' : ` in ${tree.top}`}`, { exitCode: 66 });
  if (dest === undefined) plan.hops(r.hops);
  const to = dest ?? r.path;
  let count = 0;
  const walk = (real: string, d: string): void => {
    if (++count > MAX_TREE_ENTRIES) throw new MoatError('MOAT_ROOT_TOO_BIG', `${src}: more than ${MAX_TREE_ENTRIES} entries`, { exitCode: 65 });
    const st = tree.lstat(real);
    if (st === null) return;
    if (st.isDirectory()) {
      for (const name of [...(tree.list(real) ?? [])].sort()) {
        const child = `${real === '/' ? '' : real}/${name}`;
        const cst = tree.lstat(child);
        const cd = `${d === '/' ? '' : d}/${name}`;
        // Links inside a copied directory are copied as links (dangling or not), never followed.
        if (cst?.isSymbolicLink() === true) plan.link(cd, relativeTarget(cd, tree.readlink(child)));
        else walk(child, cd);
      }
    } else if (st.isFile()) {
      plan.file({ dest: d, srcReal: real, source: real });
    }
  };
  walk(r.path, to);
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function findLdconfig(): string | undefined {
  return ['/usr/sbin/ldconfig', '/sbin/ldconfig'].find((p) => existsSync(p));
}

export async function buildRoot(opts: BuildOptions, io: Io): Promise<BuildReport> {
  const started = Date.now();
  const tree = new Tree(opts.sysroot ?? '/');
  const resolver = new Resolver(tree, opts.os === undefined ? {} : { os: opts.os });
  const plan = new Plan();
  const closures: Closure[] = [];
  const objects: LoadedObject[] = [];
  for (const b of opts.binaries) {
    let c: Closure;
    try {
      c = resolver.closure(b.src);
    } catch (e) {
      if (e instanceof NotElfError) throw new MoatError('MOAT_ROOT_NOT_ELF', `${b.src}: not an ELF file; copy scripts and data with --file`, { exitCode: 65 });
      throw e;
    }
    if (c.missing.length > 0) {
      const list = c.missing.map((m) => `${m.name} (needed by ${m.neededBy}: ${m.why})`).join('; ');
      throw new MoatError('MOAT_ROOT_MISSING', `${b.src}: cannot complete its closure: ${list}`, { exitCode: 65 });
    }
    closures.push(c);
    const [main, ...rest] = closureObjects(c);
    if (main === undefined) continue;
    if (b.dest === undefined) plan.object(main);
    else plan.file({ dest: posix.resolve('/', b.dest), srcReal: main.real, source: main.path });
    for (const o of rest) plan.object(o);
    objects.push(...closureObjects(c));
  }
  const warnings: string[] = [];
  if (opts.trace !== undefined && closures[0] !== undefined) {
    if (!tree.isHostRoot) throw new MoatError('MOAT_ROOT_TRACE', '--trace runs the binary on this host, so it cannot be used with --sysroot', { exitCode: 64 });
    const first = closures[0].main;
    for (const p of await traceOpens(first.real, opts.trace)) {
      let isLib = false;
      try {
        const r = tree.resolve(p);
        isLib = r !== undefined && tree.lstat(r.path)?.isFile() === true && readElf(tree.host(r.path)).type === 3;
      } catch {
        isLib = false;
      }
      if (!isLib || objects.some((o) => o.path === p || o.real === p)) continue;
      const c = resolver.closure(p);
      for (const o of closureObjects(c)) plan.object(o);
      objects.push(...closureObjects(c));
      warnings.push(`--trace: added ${p}, which the program opened at run time`);
    }
  }
  for (const f of opts.files ?? []) planPath(tree, plan, f.src, f.dest === undefined ? undefined : posix.resolve('/', f.dest));
  const extras = planExtras(opts.with ?? [], tree);
  for (const p of extras.copy) planPath(tree, plan, p, undefined);
  warnings.push(...dlopenWarnings(objects, new Set(plan.files.keys())));

  // Write.
  const root = posix.resolve(io.cwd, opts.root);
  if (root === '/' || (tree.isHostRoot ? false : posix.resolve(opts.sysroot ?? '/') === root)) throw new MoatError('MOAT_ROOT_BAD_ROOT', `refusing to build into ${root}`, { exitCode: 64 });
  mkdirSync(root, { recursive: true, mode: 0o755 });
  if (!lstatSync(root).isDirectory()) throw new MoatError('MOAT_ROOT_BAD_ROOT', `${root}: not a directory (a symbolic link is refused too)`, { exitCode: 73 });
  const writer = new RootWriter(root, opts.keepSetuid === true);
  let symlinks = 0;
  for (const [link, target] of [...plan.links].sort(([a], [b]) => a.split('/').length - b.split('/').length || a.localeCompare(b))) {
    writer.symlink(link, target);
    symlinks++;
  }
  const items = [...plan.files.values()].sort((a, b) => a.dest.localeCompare(b.dest));
  const progress = new Progress({ stream: io.stderr, label: 'moat root build', total: items.length, unit: 'files' });
  let done = 0;
  let bytes = 0;
  let hardlinks = 0;
  const stripped: string[] = [];
  const hashes = new Map<string, string>();
  const sources = new Map<string, string>();
  const removeStatus = installStatusLine({ command: 'moat root build', describe: () => `copying file ${done + 1} of ${items.length} into ${root}` });
  try {
    const wantHash = opts.manifest !== undefined;
    const copyOne = async (it: FileItem): Promise<void> => {
      const w = await writer.copy(tree.host(it.srcReal), it.dest, wantHash);
      done++;
      bytes += w.size;
      if (w.linkedTo !== undefined) hardlinks++;
      if (w.strippedBits !== 0) stripped.push(w.path);
      if (w.sha256 !== undefined) hashes.set(w.path, w.sha256);
      sources.set(w.path, tree.isHostRoot ? it.source : `${tree.top}${it.source}`);
      progress.update(done, bytes);
    };
    // A file whose size no other file shares cannot have a twin to hard-link
    // to, so those are copied a few at a time; the rest one by one, in order,
    // so that which copy becomes the link is always the same.
    const sizes = new Map<number, number>();
    const sizeOf = (it: FileItem): number => tree.lstat(it.srcReal)?.size ?? -1;
    for (const it of items) sizes.set(sizeOf(it), (sizes.get(sizeOf(it)) ?? 0) + 1);
    const alone = items.filter((it) => sizes.get(sizeOf(it)) === 1);
    const twins = items.filter((it) => sizes.get(sizeOf(it)) !== 1);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < alone.length) {
        const it = alone[next++];
        if (it !== undefined) await copyOne(it);
      }
    };
    await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, alone.length) }, worker));
    for (const it of twins) await copyOne(it);
    for (const g of extras.generated) {
      const w = writer.write(g.dest, g.content, g.mode);
      if (w.sha256 !== undefined) hashes.set(w.path, w.sha256);
      done++;
      bytes += w.size;
    }
  } finally {
    progress.finish();
    removeStatus();
  }
  const target = closures[0]?.target;
  let ldconfig: BuildReport['ldconfig'] = 'skipped';
  // A root of static binaries has no loader to read a cache: leave etc/ empty of it.
  const dynamic = closures.some((c) => c.interp !== undefined || c.libs.length > 0);
  if (target?.os === 'linux' && dynamic && opts.ldconfig !== false) {
    ldconfig = runLdconfig(writer, root, objects, systemDirs(target, tree), opts.ldconfig === true);
    if (ldconfig === 'failed') warnings.push('ldconfig -r failed; the root has no etc/ld.so.cache (libraries outside the system directories may not be found)');
  } else if (target?.os === 'freebsd') {
    const dirs = readElfHints(tree, target.bits);
    if (dirs.length > 0) writer.write(target.bits === 32 ? '/var/run/ld-elf32.so.hints' : '/var/run/ld-elf.so.hints', buildElfHints(dirs, target.littleEndian), 0o644);
  }
  let manifest: Manifest | undefined;
  if (opts.manifest !== undefined) {
    const entries = scanRoot(root, hashes).map((e) => {
      const s = sources.get(e.path);
      return s === undefined ? e : { ...e, source: s };
    });
    manifest = { format: 'moat-root-manifest/1', created: new Date().toISOString(), sysroot: tree.top, entries };
    writeFileSync(posix.resolve(io.cwd, opts.manifest), `${JSON.stringify(manifest, null, 1)}\n`);
  }
  return { files: done, bytes, symlinks, hardlinks, ms: Date.now() - started, stripped, warnings, closures, ldconfig, manifest };
}

/**
 * Write etc/ld.so.cache with the host's ldconfig, which chroots into the
 * root itself (-r), so links inside the root are resolved inside it. -X
 * keeps it from making soname links; we lay those out ourselves.
 */
function runLdconfig(writer: RootWriter, root: string, objects: readonly LoadedObject[], sysDirs: readonly string[], required: boolean): BuildReport['ldconfig'] {
  const ldconfig = findLdconfig();
  if (ldconfig === undefined || !isRoot()) {
    if (required) throw new MoatError('MOAT_ROOT_LDCONFIG', 'ldconfig -r needs ldconfig and root privileges', { exitCode: 69 });
    return 'skipped';
  }
  const dirs = [...new Set(objects.filter((o) => o.elf.type === 3).map((o) => posix.dirname(o.path).replace(/\/glibc-hwcaps\/[^/]+$/, '')))].filter((d) => !sysDirs.includes(d));
  writer.write('/etc/ld.so.conf', dirs.length === 0 ? '' : `${dirs.join('\n')}\n`, 0o644);
  const hadVar = isRealDir(root, '/var');
  const hadCache = isRealDir(root, '/var/cache');
  const r = spawnSync(ldconfig, ['-X', '-r', root], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, shell: false });
  // ldconfig leaves its aux-cache under var/cache/ldconfig; a minimal root does not want it.
  removeRealDir(root, '/var/cache/ldconfig');
  if (!hadCache) removeRealDir(root, '/var/cache');
  if (!hadVar) removeRealDir(root, '/var');
  return r.status === 0 ? 'written' : 'failed';
}

/** Is every component of this in-root path a real directory (no symlink anywhere)? */
function isRealDir(root: string, inRoot: string): boolean {
  let cur = root;
  for (const c of inRoot.split('/').filter((x) => x !== '')) {
    cur = `${cur}/${c}`;
    try {
      if (!lstatSync(cur).isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Remove an in-root directory tree, but only when no component of its path is a symlink. */
function removeRealDir(root: string, inRoot: string): void {
  if (isRealDir(root, inRoot)) rmSync(`${root}${inRoot}`, { recursive: true, force: true });
}
