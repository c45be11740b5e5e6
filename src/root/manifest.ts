// The manifest of a built root: every entry with its type, mode, sha256 and
// where it came from, as JSON (file names may hold newlines; JSON keeps them
// data). `verify` compares a root with it and, like jailkit's jk_check, also
// reports setuid/setgid files, world-writable entries and device nodes.
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { MoatError, lazyCrypto } from '../core/index.js';

export interface ManifestEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits as four octal digits. */
  mode: string;
  size?: number;
  sha256?: string;
  target?: string;
  /** Where a file or link was copied from (a host or sysroot path), when moat put it there. */
  source?: string;
}

export interface Manifest {
  format: 'moat-root-manifest/1';
  created: string;
  sysroot: string;
  entries: ManifestEntry[];
}

// Checked by hand rather than with zod: `moat root` runs in shell loops and
// from minimal roots, and zod alone costs ~65 ms of start-up for six fields.
const ENTRY_TYPES: ReadonlySet<string> = new Set(['file', 'dir', 'symlink', 'other']);
const ENTRY_KEYS: ReadonlySet<string> = new Set(['path', 'type', 'mode', 'size', 'sha256', 'target', 'source']);

/** The first thing wrong with a parsed manifest, as `field.path: message`, or undefined. */
function manifestProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'expected an object';
  const m = raw as Record<string, unknown>;
  if (m.format !== 'moat-root-manifest/1') return "format: expected 'moat-root-manifest/1'";
  if (typeof m.created !== 'string') return 'created: expected a string';
  if (typeof m.sysroot !== 'string') return 'sysroot: expected a string';
  if (!Array.isArray(m.entries)) return 'entries: expected an array';
  for (const [i, e] of (m.entries as unknown[]).entries()) {
    const at = `entries.${String(i)}`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return `${at}: expected an object`;
    const r = e as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!ENTRY_KEYS.has(k)) return `${at}.${k}: unknown field`;
    if (typeof r.path !== 'string') return `${at}.path: expected a string`;
    if (typeof r.type !== 'string' || !ENTRY_TYPES.has(r.type)) return `${at}.type: expected file, dir, symlink or other`;
    if (typeof r.mode !== 'string' || !/^[0-7]{4}$/.test(r.mode)) return `${at}.mode: expected four octal digits`;
    if (r.size !== undefined && !(typeof r.size === 'number' && Number.isSafeInteger(r.size) && r.size >= 0)) return `${at}.size: expected a non-negative integer`;
    if (r.sha256 !== undefined && !(typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256))) return `${at}.sha256: expected 64 lower-case hex digits`;
    for (const k of ['target', 'source'] as const) if (r[k] !== undefined && typeof r[k] !== 'string') return `${at}.${k}: expected a string`;
  }
  return undefined;
}

const MAX_DEPTH = 64;
const MAX_ENTRIES = 1_000_000;

export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** sha256 of a file, opened without following a symlink. */
export function hashFile(host: string): string {
  const fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new MoatError('MOAT_ROOT_NOT_FILE', `${host}: not a regular file`);
    const h = lazyCrypto().createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
    return h.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/**
 * Walk a root without following any symlink and describe every entry.
 * `hashes` supplies digests already known (from the copy) so files are not read twice.
 */
export function scanRoot(root: string, hashes: ReadonlyMap<string, string> = new Map()): ManifestEntry[] {
  const prefix = posix.resolve(root);
  const out: ManifestEntry[] = [];
  const visit = (inRoot: string, depth: number): void => {
    if (out.length > MAX_ENTRIES) throw new MoatError('MOAT_ROOT_TOO_BIG', `${root}: more than ${MAX_ENTRIES} entries`);
    const host = inRoot === '/' ? prefix : prefix + inRoot;
    const st = lstatSync(host);
    const mode = octal(st.mode);
    if (st.isDirectory()) {
      out.push({ path: inRoot, type: 'dir', mode });
      if (depth >= MAX_DEPTH) throw new MoatError('MOAT_ROOT_TOO_DEEP', `${inRoot}: directories nested deeper than ${MAX_DEPTH}`);
      for (const name of readdirSync(host).sort()) visit(inRoot === '/' ? `/${name}` : `${inRoot}/${name}`, depth + 1);
    } else if (st.isSymbolicLink()) {
      out.push({ path: inRoot, type: 'symlink', mode: '0777', target: readlinkSync(host) });
    } else if (st.isFile()) {
      out.push({ path: inRoot, type: 'file', mode, size: st.size, sha256: hashes.get(inRoot) ?? hashFile(host) });
    } else {
      out.push({ path: inRoot, type: 'other', mode });
    }
  };
  visit('/', 0);
  return out;
}

export function parseManifest(text: string, file: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new MoatError('MOAT_ROOT_BAD_MANIFEST', `${file}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const problem = manifestProblem(raw);
  if (problem !== undefined) throw new MoatError('MOAT_ROOT_BAD_MANIFEST', `${file}: ${problem}`);
  return raw as Manifest;
}

export function loadManifest(file: string): Manifest {
  return parseManifest(readFileSync(file, 'utf8'), file);
}

export interface Finding {
  kind: 'missing' | 'extra' | 'changed' | 'mode' | 'type' | 'target' | 'setuid' | 'world-writable' | 'device' | 'link-escape';
  path: string;
  detail: string;
}

/** Show a path safely on one line: control characters are escaped. */
export function shown(p: string): string {
  return /[\x00-\x1f\x7f]|^\s|\s$/.test(p) ? JSON.stringify(p) : p;
}

/** Does a link at `link` (in-root) with this target lead out of the root when followed on the host? */
function leavesRoot(link: string, target: string): boolean {
  if (target.startsWith('/')) return true;
  let depth = link.split('/').filter((c) => c !== '').length - 1;
  for (const c of target.split('/')) {
    if (c === '..') depth--;
    else if (c !== '' && c !== '.') depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** Compare a root with its manifest (if given) and look for dangerous entries. */
export function verifyRoot(root: string, manifest: Manifest | undefined): Finding[] {
  const now = scanRoot(root);
  const findings: Finding[] = [];
  if (manifest !== undefined) {
    const want = new Map(manifest.entries.map((e) => [e.path, e]));
    const have = new Map(now.map((e) => [e.path, e]));
    for (const [p, w] of want) {
      const h = have.get(p);
      if (h === undefined) findings.push({ kind: 'missing', path: p, detail: `${w.type} is gone` });
      else if (h.type !== w.type) findings.push({ kind: 'type', path: p, detail: `was a ${w.type}, now a ${h.type}` });
      else if (w.type === 'file' && h.sha256 !== w.sha256) findings.push({ kind: 'changed', path: p, detail: 'content differs (sha256)' });
      else if (w.type === 'symlink' && h.target !== w.target) findings.push({ kind: 'target', path: p, detail: `points at ${shown(h.target ?? '')}, not ${shown(w.target ?? '')}` });
      if (h?.type === w.type && w.type !== 'symlink' && h.mode !== w.mode) findings.push({ kind: 'mode', path: p, detail: `mode ${h.mode}, not ${w.mode}` });
    }
    for (const [p, h] of have) if (!want.has(p)) findings.push({ kind: 'extra', path: p, detail: `${h.type} not in the manifest` });
  }
  for (const e of now) {
    const m = parseInt(e.mode, 8);
    if (e.type === 'file' && (m & 0o6000) !== 0) findings.push({ kind: 'setuid', path: e.path, detail: `mode ${e.mode} has ${(m & 0o4000) !== 0 ? 'setuid' : 'setgid'}` });
    if (e.type !== 'symlink' && (m & 0o002) !== 0) findings.push({ kind: 'world-writable', path: e.path, detail: `${e.type} mode ${e.mode} is world-writable` });
    if (e.type === 'other') findings.push({ kind: 'device', path: e.path, detail: 'device, FIFO or socket' });
    // Inside the jail such a link resolves within it; but a host tool that walks the tree as root would follow it out.
    if (e.type === 'symlink' && e.target !== undefined && leavesRoot(e.path, e.target)) findings.push({ kind: 'link-escape', path: e.path, detail: `points outside the root when followed from the host: ${shown(e.target)}` });
  }
  return findings;
}
