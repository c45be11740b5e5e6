// FreeBSD rtld's two configuration files: the directory list ldconfig(8)
// writes to /var/run/ld-elf.so.hints (<sys/elf-hints.h>), and libmap.conf(5),
// which maps one library name to another, globally or per object.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { Tree } from './tree.js';

/** ELFHINTS_MAGIC, "Ehnt" read as a little-endian word. */
const ELFHINTS_MAGIC = 0x746e6845;
const HEADER_SIZE = 128;
const MAX_HINTS = 1 << 20;

/** Read a whole small regular file from the tree, or undefined. */
function readSmall(tree: Tree, path: string): Buffer | undefined {
  const r = tree.resolve(path);
  if (r === undefined) return undefined;
  const st = tree.lstat(r.path);
  if (st?.isFile() !== true || st.size > MAX_HINTS) return undefined;
  try {
    return readFileSync(tree.host(r.path));
  } catch {
    return undefined;
  }
}

/**
 * The directory list from an ld-elf.so.hints file. ldconfig writes the header
 * in the host's byte order, so the magic tells us which order to read.
 */
export function parseElfHints(b: Buffer): string[] | undefined {
  if (b.length < HEADER_SIZE) return undefined;
  let u32: (o: number) => number;
  if (b.readUInt32LE(0) === ELFHINTS_MAGIC) u32 = (o) => b.readUInt32LE(o);
  else if (b.readUInt32BE(0) === ELFHINTS_MAGIC) u32 = (o) => b.readUInt32BE(o);
  else return undefined;
  if (u32(4) !== 1) return undefined;
  const strtab = u32(8);
  const strsize = u32(12);
  const dirlist = u32(16);
  const dirlistlen = u32(20);
  if (strtab + strsize > b.length || dirlist + dirlistlen > strsize) return undefined;
  const s = b.toString('utf8', strtab + dirlist, strtab + dirlist + dirlistlen);
  return s.split(':').filter((d) => d !== '');
}

/** Build an ld-elf.so.hints image (for tests and for writing a root's hints). */
export function buildElfHints(dirs: readonly string[], littleEndian = true): Buffer {
  const list = Buffer.from(`${dirs.join(':')}\0`, 'utf8');
  const b = Buffer.alloc(HEADER_SIZE + list.length);
  const w = (o: number, v: number): void => {
    if (littleEndian) b.writeUInt32LE(v, o);
    else b.writeUInt32BE(v, o);
  };
  w(0, ELFHINTS_MAGIC);
  w(4, 1);
  w(8, HEADER_SIZE);
  w(12, list.length);
  w(16, 0);
  w(20, list.length - 1);
  list.copy(b, HEADER_SIZE);
  return b;
}

export function readElfHints(tree: Tree, bits: 32 | 64 = 64): string[] {
  const file = bits === 32 ? '/var/run/ld-elf32.so.hints' : '/var/run/ld-elf.so.hints';
  const b = readSmall(tree, file);
  return b === undefined ? [] : (parseElfHints(b) ?? []);
}

/** libmap.conf: constraint (`$global`, an object path, a directory ending in `/`, or a basename) → from → to. */
export type LibMap = Map<string, Map<string, string>>;

export const GLOBAL = '$global';

export function parseLibMap(text: string, map: LibMap = new Map(), include?: (path: string, dir: boolean) => void): LibMap {
  let section = GLOBAL;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const sec = /^\[\s*([^\]\s]+)\s*\]$/.exec(line);
    if (sec) {
      section = sec[1] ?? GLOBAL;
      continue;
    }
    const words = line.split(/\s+/);
    const [a, b] = words;
    if (a === undefined || b === undefined) continue;
    if (a === 'include') include?.(b, false);
    else if (a === 'includedir') include?.(b, true);
    else {
      let m = map.get(section);
      if (m === undefined) {
        m = new Map();
        map.set(section, m);
      }
      if (!m.has(a)) m.set(a, b);
    }
  }
  return map;
}

/** Read /etc/libmap.conf and what it includes, from the tree. */
export function readLibMap(tree: Tree, file = '/etc/libmap.conf'): LibMap {
  const map: LibMap = new Map();
  const seen = new Set<string>();
  const load = (path: string, depth: number): void => {
    if (depth > 8 || seen.has(path)) return;
    seen.add(path);
    const b = readSmall(tree, path);
    if (b === undefined) return;
    parseLibMap(b.toString('utf8'), map, (inc, isDir) => {
      if (!isDir) {
        load(inc, depth + 1);
        return;
      }
      const r = tree.resolve(inc);
      const names = r === undefined ? null : tree.list(r.path);
      for (const n of [...(names ?? [])].sort()) if (n.endsWith('.conf')) load(posix.join(inc, n), depth + 1);
    });
  };
  load(file, 0);
  return map;
}

/** What `name` maps to for an object at `refPath`: exact path, its directory, its basename, then global. */
export function libMapLookup(map: LibMap, refPath: string | undefined, name: string): string | undefined {
  if (map.size === 0) return undefined;
  if (refPath !== undefined) {
    for (const key of [refPath, `${posix.dirname(refPath)}/`, posix.basename(refPath)]) {
      const hit = map.get(key)?.get(name);
      if (hit !== undefined) return hit;
    }
  }
  return map.get(GLOBAL)?.get(name);
}
