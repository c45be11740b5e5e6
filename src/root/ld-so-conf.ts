// /etc/ld.so.conf as ldconfig(8) reads it: one directory per line, `#`
// comments, `include GLOB` (relative globs are relative to the including
// file's directory), and the obsolete `hwcap` lines, which are ignored.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { isErrnoException } from '../core/index.js';
import type { Tree } from './tree.js';

const MAX_DEPTH = 16;
const MAX_BYTES = 1 << 20;

/** The directories /etc/ld.so.conf names, in order, duplicates dropped. */
export function readLdSoConf(tree: Tree, file = '/etc/ld.so.conf'): string[] {
  const dirs: string[] = [];
  readOne(tree, file, 0, dirs, new Set());
  return [...new Set(dirs)];
}

function readOne(tree: Tree, file: string, depth: number, dirs: string[], seen: Set<string>): void {
  if (depth > MAX_DEPTH) return;
  const r = tree.resolve(file);
  if (r === undefined || seen.has(r.path)) return;
  seen.add(r.path);
  const st = tree.lstat(r.path);
  if (st?.isFile() !== true || st.size > MAX_BYTES) return;
  let text: string;
  try {
    text = readFileSync(tree.host(r.path), 'utf8');
  } catch (e) {
    if (isErrnoException(e)) return;
    throw e;
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const m = /^include\s+(.+)$/.exec(line);
    if (m) {
      for (const pattern of (m[1] ?? '').split(/\s+/)) {
        const abs = pattern.startsWith('/') ? pattern : posix.join(posix.dirname(file), pattern);
        for (const f of glob(tree, abs)) readOne(tree, f, depth + 1, dirs, seen);
      }
      continue;
    }
    if (/^hwcap\s/.test(line)) continue;
    // Old ldconfig allowed `dir=TYPE`; the type is ignored today.
    const dir = line.replace(/=.*$/, '').replace(/\/+$/, '');
    if (dir.startsWith('/')) dirs.push(dir);
  }
}

/** Expand `*`, `?` and `[...]` in each component, sorted as glob(3) does. */
export function glob(tree: Tree, pattern: string): string[] {
  let found = ['/'];
  for (const part of pattern.split('/').filter((c) => c !== '')) {
    const next: string[] = [];
    for (const base of found) {
      if (!/[*?[]/.test(part)) {
        next.push(posix.join(base, part));
        continue;
      }
      const r = tree.resolve(base);
      if (r === undefined) continue;
      const names = tree.list(r.path);
      if (names === null) continue;
      const re = globToRegExp(part);
      for (const n of [...names].sort()) if (re.test(n) && !(n.startsWith('.') && !part.startsWith('.'))) next.push(posix.join(base, n));
    }
    found = next;
  }
  return found.filter((f) => tree.resolve(f) !== undefined);
}

function globToRegExp(part: string): RegExp {
  let re = '^';
  for (let i = 0; i < part.length; i++) {
    const c = part.charAt(i);
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = part.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}
