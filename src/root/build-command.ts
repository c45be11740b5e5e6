// `moat root build`: the command line over buildRoot().
import { UsageError, installStatusLine, parseCommandLine, type Io } from '../core/index.js';
import { buildRoot, type PathPair } from './build.js';
import { absolute } from './ldd.js';
import { shown } from './manifest.js';
import { Tree } from './tree.js';

export const BUILD_USAGE = `usage: moat root build --root DIR [--sysroot DIR] [options] BINARY[:DEST]...
                       [--trace -- ARGS...]

Copy each BINARY and the shared libraries it needs (found from its ELF
headers, never by running it) into DIR, with their symlink chains.

  --root DIR          the root to build (created if missing)
  --sysroot DIR       take binaries and libraries from this tree instead of /
  --file SRC[:DEST]   also copy a file or directory (repeatable)
  --with WHAT         passwd=USER[:UID:GID], hosts, tzdata, certs (repeatable)
  --keep-setuid       keep setuid/setgid bits (stripped by default)
  --manifest FILE     write every entry's sha256, mode and source as JSON
  --no-ldconfig       do not write etc/ld.so.cache with ldconfig -r
  --os linux|freebsd  the tree's OS when the binaries do not say
  --trace             run the first BINARY once under strace with the ARGS
                      after --, and add the libraries it opens (runs it!)
  -q, --quiet         no summary line
`;

/**
 * Split `SRC:DEST`. A colon is part of the name unless what follows it is an
 * absolute path and SRC alone exists, so names holding `:` still work.
 */
export function splitPair(arg: string, exists: (p: string) => boolean): PathPair {
  if (exists(arg)) return { src: arg };
  const i = arg.lastIndexOf(':');
  if (i > 0 && arg.charAt(i + 1) === '/') {
    const src = arg.slice(0, i);
    if (exists(src)) return { src, dest: arg.slice(i + 1) };
  }
  return { src: arg };
}

export async function buildMain(argv: readonly string[], io: Io): Promise<number> {
  const dd = argv.indexOf('--');
  const own = dd < 0 ? argv : argv.slice(0, dd);
  const traceArgs = dd < 0 ? [] : argv.slice(dd + 1);
  const { values, positionals } = parseCommandLine('moat root build', own, {
    root: { type: 'string' },
    sysroot: { type: 'string' },
    file: { type: 'string', multiple: true },
    with: { type: 'string', multiple: true },
    'keep-setuid': { type: 'boolean' },
    manifest: { type: 'string' },
    'no-ldconfig': { type: 'boolean' },
    os: { type: 'string' },
    trace: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(BUILD_USAGE);
    return 0;
  }
  if (values.root === undefined) throw new UsageError('moat root build: --root DIR is required', "try 'moat root build --help'");
  if (positionals.length === 0) throw new UsageError('moat root build: name at least one BINARY', "try 'moat root build --help'");
  if (values.os !== undefined && values.os !== 'linux' && values.os !== 'freebsd') throw new UsageError(`moat root build: --os is linux or freebsd, not '${values.os}'`, "try 'moat root build --help'");
  if (dd >= 0 && values.trace !== true) throw new UsageError("moat root build: arguments after '--' are only for --trace", "try 'moat root build --help'");
  const sysroot = values.sysroot === undefined ? undefined : absolute(values.sysroot, io.cwd);
  const tree = new Tree(sysroot ?? '/');
  const inTree = (p: string): string => (sysroot === undefined ? absolute(p, io.cwd) : p.startsWith('/') ? p : `/${p}`);
  const exists = (p: string): boolean => {
    try {
      return tree.resolve(inTree(p)) !== undefined;
    } catch {
      return false;
    }
  };
  const pair = (a: string): PathPair => {
    const p = splitPair(a, exists);
    return p.dest === undefined ? { src: inTree(p.src) } : { src: inTree(p.src), dest: p.dest };
  };
  const report = await buildRoot(
    {
      root: values.root,
      ...(sysroot === undefined ? {} : { sysroot }),
      binaries: positionals.map(pair),
      files: (values.file ?? []).map(pair),
      with: values.with ?? [],
      keepSetuid: values['keep-setuid'] === true,
      ...(values.manifest === undefined ? {} : { manifest: values.manifest }),
      ...(values['no-ldconfig'] === true ? { ldconfig: false } : {}),
      ...(values.trace === true ? { trace: traceArgs } : {}),
      ...(values.os === 'linux' || values.os === 'freebsd' ? { os: values.os } : {}),
    },
    io,
    // The process's status line is the command's to install, not the library's.
    { status: (describe) => installStatusLine({ command: 'moat root build', describe, stream: io.stderr }) },
  );
  for (const w of report.warnings) io.stderr.write(`moat root build: warning: ${w}\n`);
  for (const p of report.stripped) io.stderr.write(`moat root build: stripped setuid/setgid from ${shown(p)}\n`);
  if (values.quiet !== true) {
    const mb = (report.bytes / 1e6).toFixed(1);
    io.stdout.write(
      `moat root build: ${values.root}: ${report.files} files (${report.hardlinks} hard-linked), ${report.symlinks} symlinks, ${mb} MB in ${(report.ms / 1000).toFixed(2)} s; ld.so.cache ${report.ldconfig}\n`,
    );
  }
  return 0;
}
