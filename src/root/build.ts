// `moat root build` as a library function: resolve closures, plan the
// layout, write it with RootWriter, then ld.so.cache or ld-elf.so.hints, and
// the manifest.
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { posix } from 'node:path';
import { MoatError, Progress, installStatusLine, type Io } from '../core/index.js';
import { dlopenWarnings } from './dlopen-hints.js';
import { NotElfError, readElf } from './elf-reader.js';
import { planExtras } from './extras.js';
import { buildElfHints, readElfHints } from './freebsd-rtld.js';
import { ldconfigUsable, mayBeReadByLdconfig, runLdconfig, type LdconfigStatus } from './ldconfig.js';
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
    if (had !== undefined && had !== target) throw new MoatError('MOAT_ROOT_WANTED_TWICE', `${link}: wanted as a link to both ${had} and ${target}`);
    if (this.files.has(link)) throw new MoatError('MOAT_ROOT_WANTED_TWICE', `${link}: wanted as both a file and a link`);
    this.links.set(link, target);
  }

  file(item: FileItem): void {
    const had = this.files.get(item.dest);
    if (had !== undefined && had.srcReal !== item.srcReal) throw new MoatError('MOAT_ROOT_WANTED_TWICE', `${item.dest}: wanted from both ${had.source} and ${item.source}`);
    if (this.links.has(item.dest)) throw new MoatError('MOAT_ROOT_WANTED_TWICE', `${item.dest}: wanted as both a file and a link`);
    this.files.set(item.dest, item);
  }

  object(o: LoadedObject): void {
    this.hops(o.hops);
    this.file({ dest: o.real, srcReal: o.real, source: o.path });
  }
}

const MAX_TREE_ENTRIES = 200_000;
/**
 * Copies in flight at once, besides the in-order chain of same-size files:
 * copy_file_range(2) keeps a CPU busy copying pages, so more copies than
 * CPUs only slow the longest one down (it is the build's critical path);
 * at most libuv's pool of four threads.
 */
function copyConcurrency(): number {
  return Math.min(4, Math.max(2, availableParallelism()));
}

/** Add a source path (file, symlink chain, or whole directory) to the plan. */
function planPath(tree: Tree, plan: Plan, src: string, dest: string | undefined): void {
  const r = tree.resolve(src);
  if (r === undefined) throw new MoatError('MOAT_ROOT_NO_FILE', `${src}: no such file${tree.isHostRoot ? '' : ` in ${tree.top}`}`);
  if (dest === undefined) plan.hops(r.hops);
  const to = dest ?? r.path;
  let count = 0;
  const walk = (real: string, d: string): void => {
    if (++count > MAX_TREE_ENTRIES) throw new MoatError('MOAT_ROOT_TOO_BIG', `${src}: more than ${MAX_TREE_ENTRIES} entries`);
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
      if (e instanceof NotElfError) throw new MoatError('MOAT_ROOT_NOT_ELF', `${b.src}: not an ELF file; copy scripts and data with --file`);
      throw e;
    }
    if (c.missing.length > 0) {
      const list = c.missing.map((m) => `${m.name} (needed by ${m.neededBy}: ${m.why})`).join('; ');
      throw new MoatError('MOAT_ROOT_MISSING', `${b.src}: cannot complete its closure: ${list}`);
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
    if (!tree.isHostRoot) throw new MoatError('MOAT_ROOT_TRACE_SYSROOT', '--trace runs the binary on this host, so it cannot be used with --sysroot');
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
  if (root === '/' || (tree.isHostRoot ? false : posix.resolve(opts.sysroot ?? '/') === root)) throw new MoatError('MOAT_ROOT_REFUSED', `refusing to build into ${root}`);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  if (!lstatSync(root).isDirectory()) throw new MoatError('MOAT_ROOT_BAD_ROOT', `${root}: not a directory (a symbolic link is refused too)`);
  const writer = new RootWriter(root, opts.keepSetuid === true);
  let symlinks = 0;
  // Links first, shallowest first: a file or link whose path runs through a
  // planned link (/lib -> usr/lib) is then placed through it, inside the root.
  for (const [link, target] of [...plan.links].sort(([a], [b]) => a.split('/').length - b.split('/').length || byCodeUnits(a, b))) {
    writer.symlink(link, target);
    symlinks++;
  }
  const target = closures[0]?.target;
  // A root of static binaries has no loader to read a cache: leave etc/ empty of it.
  const dynamic = closures.some((c) => c.interp !== undefined || c.libs.length > 0);
  const ldconfigPath = target?.os === 'linux' && dynamic && opts.ldconfig !== false ? ldconfigUsable(opts.ldconfig === true) : undefined;
  if (target !== undefined && ldconfigPath !== undefined) {
    const sysDirs = systemDirs(target, tree);
    const dirs = [...new Set(objects.filter((o) => o.elf.type === 3).map((o) => posix.dirname(o.path).replace(/\/glibc-hwcaps\/[^/]+$/, '')))].filter((d) => !sysDirs.includes(d));
    // No digest: the manifest, if any, hashes what ends up in the root.
    writer.write('/etc/ld.so.conf', dirs.length === 0 ? '' : `${dirs.join('\n')}\n`, 0o644, false);
  }
  // A generated file (--with) wins over a copied one of the same name, as it always has.
  const generatedDests = new Set(extras.generated.map((g) => g.dest));
  const items = [...plan.files.values()].filter((it) => !generatedDests.has(it.dest)).sort((a, b) => byCodeUnits(a.dest, b.dest));
  const progress = new Progress({ stream: io.stderr, label: 'moat root build', total: items.length, unit: 'files' });
  let done = 0;
  let bytes = 0;
  let hardlinks = 0;
  const stripped: string[] = [];
  const hashes = new Map<string, string>();
  const sources = new Map<string, string>();
  // ldconfig starts as soon as the last file it could read is in place, and
  // runs while the rest (the large main binaries, typically) is still copied.
  let ldconfigRun: Promise<LdconfigStatus> | undefined;
  let ldconfigWaits = ldconfigPath === undefined ? 0 : items.filter((it) => mayBeReadByLdconfig(it.dest)).length;
  const startLdconfig = (): void => {
    if (ldconfigPath !== undefined) ldconfigRun ??= runLdconfig(ldconfigPath, root);
  };
  const removeStatus = installStatusLine({ command: 'moat root build', describe: () => `copying file ${done + 1} of ${items.length} into ${root}` });
  try {
    // Generated files (etc/passwd, ...) are small: written first, so that
    // nothing written later races with ldconfig for etc/.
    for (const g of extras.generated) {
      const w = writer.write(g.dest, g.content, g.mode);
      if (w.sha256 !== undefined) hashes.set(w.path, w.sha256);
      done++;
      bytes += w.size;
    }
    if (ldconfigWaits === 0) startLdconfig();
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
      if (ldconfigPath !== undefined && mayBeReadByLdconfig(it.dest) && --ldconfigWaits === 0) startLdconfig();
    };
    // A file whose size no other file shares cannot have a twin to hard-link
    // to, so those are copied a few at a time, largest first (the longest
    // copy then overlaps all the others); the rest one by one, in order, so
    // that which copy becomes the link is always the same, alongside them.
    const sizes = new Map<number, number>();
    const sizeOf = (it: FileItem): number => tree.lstat(it.srcReal)?.size ?? -1;
    for (const it of items) sizes.set(sizeOf(it), (sizes.get(sizeOf(it)) ?? 0) + 1);
    const alone = items.filter((it) => sizes.get(sizeOf(it)) === 1).sort((a, b) => sizeOf(b) - sizeOf(a));
    const twins = items.filter((it) => sizes.get(sizeOf(it)) !== 1);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < alone.length) {
        const it = alone[next++];
        if (it !== undefined) await copyOne(it);
      }
    };
    const inOrder = async (): Promise<void> => {
      for (const it of twins) await copyOne(it);
    };
    await Promise.all([...Array.from({ length: Math.min(copyConcurrency(), alone.length) }, worker), inOrder()]);
    startLdconfig();
  } finally {
    progress.finish();
    removeStatus();
    // Never leave ldconfig running in the root, even when a copy failed.
    if (ldconfigRun !== undefined) await ldconfigRun.catch(() => 'failed');
  }
  let ldconfig: BuildReport['ldconfig'] = 'skipped';
  if (ldconfigRun !== undefined) {
    ldconfig = await ldconfigRun;
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

/** Order by UTF-16 code units: the same on every host, whatever the locale (and no ICU start-up). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
