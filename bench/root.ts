// `npm run bench -- root`: build a root for the same binaries (sh, env, node,
// tcpdump, openssl) with moat, with jailkit's jk_cp, and with the kind of
// ldd-copy script found in many Dockerfiles; wall time and root size each.
// Also: the closure of every ELF file in /usr/bin, moat against ldd(1).
// jk_cp refuses jails below a group- or world-writable directory (/tmp,
// /var/tmp), so every root is built under /var/lib/moat-bench-PID (mode 755).
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resolver, Tree, buildRoot, buildSea, formatLdd } from '../src/root/index.js';
import type { Benchmark, Figures } from './harness.js';
import { isElf } from '../test/helpers/elf-files.js';

const moatJs = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'moat.js');
const BINARIES = ['/bin/sh', '/usr/bin/env', process.execPath, '/usr/bin/tcpdump', '/usr/bin/openssl'];
const base = `/var/lib/moat-bench-${String(process.pid)}`;

// The peer: a typical ldd-copy script, written out at run time. It is not our code.
const LDD_COPY = `#!/bin/sh
# Copy binaries and every library ldd names into a root, the Dockerfile way.
set -e
root=$1; shift
mkdir -p "$root"
copy() {
  src=$1
  dir=$(dirname "$src")
  mkdir -p "$root$dir"
  cp -L "$src" "$root$dir/"
}
for bin in "$@"; do
  copy "$bin"
  for lib in $(ldd "$bin" | awk '/=> \\// { print $3 } /^\\t\\// { print $1 }'); do
    [ -e "$root$lib" ] || copy "$lib"
  done
done
# The loader is found through /lib64 on x86-64.
if [ -e /lib64/ld-linux-x86-64.so.2 ] && [ ! -e "$root/lib64/ld-linux-x86-64.so.2" ]; then
  copy /lib64/ld-linux-x86-64.so.2
fi
exit 0
`;

/** Bytes in a tree, each inode once (hard links count once), symlinks as nothing. */
function treeBytes(dir: string): number {
  const seen = new Set<number>();
  let total = 0;
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    else if (st.isFile() && !seen.has(st.ino)) {
      seen.add(st.ino);
      total += st.size;
    }
  };
  walk(dir);
  return total;
}

/**
 * The environment every subject runs in: an administrator's root shell on a
 * server, not this machine's. A sandbox may export NODE_EXTRA_CA_CERTS (this
 * one does), and Node 20 then parses the whole CA bundle before running a
 * line, ~38 ms here, in a tool that never speaks TLS; Python is unaffected.
 * The 'caller's environment' subject keeps that cost on the record.
 */
const CLEAN_ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

function timed(cmd: string, args: string[], root: string, env: NodeJS.ProcessEnv = CLEAN_ENV): Figures {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { mode: 0o755 });
  chmodSync(root, 0o755);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} exited ${String(r.status)}: ${r.stderr.slice(0, 400)}`);
  return { 'wall ms': ms, 'root MB': treeBytes(root) / 1e6 };
}

function usrBinElf(): string[] {
  return readdirSync('/usr/bin')
    .map((n) => join('/usr/bin', n))
    .filter((p) => lstatSync(p).isFile() && isElf(p));
}

/** The same build through the library, without the CLI's start-up (node plus every tool's modules). */
async function inProcess(root: string): Promise<number> {
  rmSync(root, { recursive: true, force: true });
  const t0 = process.hrtime.bigint();
  await buildRoot({ root, binaries: BINARIES.map((src) => ({ src })) }, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: {}, cwd: '/' });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function closureInProcess(files: readonly string[]): number {
  const t0 = process.hrtime.bigint();
  const r = new Resolver(new Tree('/'));
  let out = 0;
  for (const f of files) out += formatLdd(r.closure(f)).length;
  if (out === 0) throw new Error('no output');
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function closureMs(cmd: string, args: string[], env: NodeJS.ProcessEnv = CLEAN_ENV): number {
  const t0 = process.hrtime.bigint();
  spawnSync(cmd, args, { stdio: 'ignore', maxBuffer: 1 << 30, env });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function haveStrip(): boolean {
  return spawnSync('strip', ['--version'], { stdio: 'ignore' }).status === 0;
}

export default async function root(): Promise<Benchmark> {
  const script = join(base, 'ldd-copy.sh');
  const elf = usrBinElf();
  mkdirSync(base, { recursive: true, mode: 0o755 });
  chmodSync(base, 0o755);
  writeFileSync(script, LDD_COPY, { mode: 0o755 });
  // moat as it would ship into a jail: one executable, bundled, with a V8 code cache.
  const sea = join(base, 'moat-sea');
  await buildSea({ entry: moatJs, out: sea, strip: haveStrip() });
  return {
    name: 'root',
    description: `roots for ${BINARIES.join(' ')}; closure of ${String(elf.length)} ELF files in /usr/bin (wall ms and MB, lower is better)`,
    rounds: 5,
    subjects: [
      {
        name: 'moat (SEA)',
        run: () =>
          Promise.resolve({
            ...timed(sea, ['root', 'build', '-q', '--root', join(base, 'sea'), ...BINARIES], join(base, 'sea')),
            'usr/bin closure ms': closureMs(sea, ['root', 'ldd', ...elf]),
            'CLI start-up ms': closureMs(sea, ['--version']),
          }),
        teardown: () => {
          rmSync(base, { recursive: true, force: true });
          return Promise.resolve();
        },
      },
      {
        name: "moat (SEA), caller's environment",
        run: () =>
          Promise.resolve({
            ...timed(sea, ['root', 'build', '-q', '--root', join(base, 'sea-env'), ...BINARIES], join(base, 'sea-env'), process.env),
            'CLI start-up ms': closureMs(sea, ['--version'], process.env),
          }),
      },
      {
        name: 'moat (node dist/)',
        run: async () => ({
          ...timed(process.execPath, [moatJs, 'root', 'build', '-q', '--root', join(base, 'moat'), ...BINARIES], join(base, 'moat')),
          'usr/bin closure ms': closureMs(process.execPath, [moatJs, 'root', 'ldd', ...elf]),
          'CLI start-up ms': closureMs(process.execPath, [moatJs, '--version']),
          'in-process build ms': await inProcess(join(base, 'moat-lib')),
          'in-process closure ms': closureInProcess(elf),
        }),
      },
      { name: 'jailkit jk_cp', run: () => Promise.resolve(timed('jk_cp', ['-j', join(base, 'jk'), ...BINARIES], join(base, 'jk'))) },
      { name: 'ldd-copy.sh', run: () => Promise.resolve(timed('/bin/sh', [script, join(base, 'sh'), ...BINARIES], join(base, 'sh'))) },
      { name: 'ldd (glibc)', run: () => Promise.resolve({ 'usr/bin closure ms': closureMs('ldd', elf) }) },
    ],
  };
}
