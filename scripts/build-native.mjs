#!/usr/bin/env node
// Build moat's native addon, native/moat-native.c, with the system C compiler
// against the node-api-headers package: no node-gyp, no download of Node's
// headers. Node-API symbols are left undefined in the shared object and bound
// to the running node (or single executable) when it is loaded.
//
// Run by `npm run build` and by `prepare` (so `npm ci` builds it). Without a
// compiler, or when the compile fails, it says so and exits 0: only
// `moat finger --chroot/--jail` needs the addon, and ifstated falls back to
// starting tests without it. `--strict` (the tests) fails instead, and adds
// -Werror.
//
// Usage: node scripts/build-native.mjs [--strict] [--force] [--out FILE]
// Environment: CC (default cc), CFLAGS (added after ours).
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const strict = args.includes('--strict');
const force = args.includes('--force');
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 && args[outIndex + 1] !== undefined ? resolve(args[outIndex + 1]) : join(root, 'dist', 'native', 'moat-native.node');
const source = join(root, 'native', 'moat-native.c');

function giveUp(message) {
  process.stderr.write(`build-native: ${message}\n`);
  if (strict) process.exit(1);
  process.stderr.write('build-native: moat works without it, except `moat finger --chroot/--jail`; ifstated starts tests without posix_spawn\n');
  process.exit(0);
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

let include;
try {
  include = join(dirname(createRequire(import.meta.url).resolve('node-api-headers/package.json')), 'include');
} catch {
  giveUp('the node-api-headers package is missing (npm ci installs it)');
}

const built = mtime(out);
if (!force && built !== undefined && built >= (mtime(source) ?? Infinity) && built >= (mtime(fileURLToPath(import.meta.url)) ?? Infinity)) process.exit(0);

const cc = process.env.CC ?? 'cc';
const flags = ['-std=gnu11', '-O2', '-fPIC', '-shared', '-Wall', '-Wextra', ...(strict ? ['-Werror'] : [])];
// macOS wants undefined Node-API symbols allowed explicitly; Linux and the BSDs allow them in a shared object.
if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
const extra = (process.env.CFLAGS ?? '').split(/\s+/).filter((f) => f !== '');
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.tmp-${String(process.pid)}`;
const r = spawnSync(cc, [...flags, ...extra, '-I', include, '-o', tmp, source], { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.error !== undefined) {
  rmSync(tmp, { force: true });
  giveUp(`no C compiler (${cc}: ${r.error.code ?? r.error.message}); install one (Debian: gcc libc6-dev) and run npm run build:native`);
}
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  giveUp(`${cc} failed (exit ${String(r.status ?? r.signal)}) compiling ${source}`);
}
renameSync(tmp, out);
process.stderr.write(`build-native: ${out}\n`);
