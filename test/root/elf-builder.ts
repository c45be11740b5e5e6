// Builds tiny ELF images byte by byte for tests: one PT_LOAD mapping the
// whole file at address 0 (so addresses equal offsets), an optional
// PT_INTERP, a PT_DYNAMIC with its string table, and an optional ABI note.
// Layouts from the System V gABI; nothing here is meant to run.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ElfSpec {
  bits?: 32 | 64;
  littleEndian?: boolean;
  machine?: number;
  osabi?: number;
  type?: number;
  interp?: string;
  needed?: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  flags1?: number;
  /** Add an ABI tag note: 'FreeBSD' or 'GNU'. */
  note?: 'FreeBSD' | 'GNU';
  /** No PT_DYNAMIC at all: a static executable. */
  static?: boolean;
}

export function buildElf(spec: ElfSpec): Buffer {
  const is64 = (spec.bits ?? 64) === 64;
  const le = spec.littleEndian ?? true;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  // String table.
  const strs: string[] = [''];
  const index = new Map<string, number>();
  let strLen = 1;
  const str = (s: string): number => {
    const hit = index.get(s);
    if (hit !== undefined) return hit;
    const at = strLen;
    strs.push(s);
    index.set(s, at);
    strLen += Buffer.byteLength(s) + 1;
    return at;
  };
  const dyn: [number, number][] = [];
  for (const n of spec.needed ?? []) dyn.push([1, str(n)]);
  if (spec.soname !== undefined) dyn.push([14, str(spec.soname)]);
  if (spec.rpath !== undefined) dyn.push([15, str(spec.rpath)]);
  if (spec.runpath !== undefined) dyn.push([29, str(spec.runpath)]);
  if (spec.flags1 !== undefined) dyn.push([0x6ffffffb, spec.flags1]);
  const strtab = Buffer.concat(strs.map((s) => Buffer.from(`${s}\0`)));
  const interp = spec.interp === undefined ? undefined : Buffer.from(`${spec.interp}\0`);
  const note = spec.note === undefined ? undefined : makeNote(spec.note, le);
  const phnum = 1 + (interp ? 1 : 0) + (spec.static === true ? 0 : 1) + (note ? 1 : 0);
  let off = ehsize + phnum * phentsize;
  const interpAt = off;
  off += interp?.length ?? 0;
  const noteAt = align(off, 4);
  off = noteAt + (note?.length ?? 0);
  const strAt = off;
  off += strtab.length;
  const dynAt = align(off, 8);
  dyn.push([5, strAt], [10, strtab.length], [0, 0]);
  const dynEnt = is64 ? 16 : 8;
  const size = dynAt + (spec.static === true ? 0 : dyn.length * dynEnt);
  const b = Buffer.alloc(size);
  const u16 = (o: number, v: number): void => {
    if (le) b.writeUInt16LE(v, o);
    else b.writeUInt16BE(v, o);
  };
  const u32 = (o: number, v: number): void => {
    if (le) b.writeUInt32LE(v, o);
    else b.writeUInt32BE(v, o);
  };
  const u64 = (o: number, v: number): void => {
    if (le) b.writeBigUInt64LE(BigInt(v), o);
    else b.writeBigUInt64BE(BigInt(v), o);
  };
  const word = (o: number, v: number): void => {
    if (is64) u64(o, v);
    else u32(o, v);
  };
  b.write('\x7fELF', 0, 'latin1');
  b[4] = is64 ? 2 : 1;
  b[5] = le ? 1 : 2;
  b[6] = 1;
  b[7] = spec.osabi ?? 0;
  u16(16, spec.type ?? 3);
  u16(18, spec.machine ?? 62);
  u32(20, 1);
  word(is64 ? 32 : 28, ehsize); // e_phoff
  u16(is64 ? 52 : 40, ehsize);
  u16(is64 ? 54 : 42, phentsize);
  u16(is64 ? 56 : 44, phnum);
  let ph = ehsize;
  const phdr = (type: number, offset: number, filesz: number): void => {
    u32(ph, type);
    if (is64) {
      u64(ph + 8, offset);
      u64(ph + 16, offset);
      u64(ph + 24, offset);
      u64(ph + 32, filesz);
      u64(ph + 40, filesz);
    } else {
      u32(ph + 4, offset);
      u32(ph + 8, offset);
      u32(ph + 12, offset);
      u32(ph + 16, filesz);
      u32(ph + 20, filesz);
    }
    ph += phentsize;
  };
  phdr(1, 0, size);
  if (interp) {
    phdr(3, interpAt, interp.length);
    interp.copy(b, interpAt);
  }
  if (note) {
    phdr(4, noteAt, note.length);
    note.copy(b, noteAt);
  }
  strtab.copy(b, strAt);
  if (spec.static !== true) {
    phdr(2, dynAt, dyn.length * dynEnt);
    dyn.forEach(([tag, val], i) => {
      word(dynAt + i * dynEnt, tag);
      word(dynAt + i * dynEnt + dynEnt / 2, val);
    });
  }
  return b;
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function makeNote(name: 'FreeBSD' | 'GNU', le: boolean): Buffer {
  const nameBuf = Buffer.from(`${name}\0`);
  const namesz = nameBuf.length;
  const desc = Buffer.alloc(name === 'GNU' ? 16 : 4);
  const b = Buffer.alloc(12 + align(namesz, 4) + desc.length);
  const u32 = (o: number, v: number): void => {
    if (le) b.writeUInt32LE(v, o);
    else b.writeUInt32BE(v, o);
  };
  u32(0, namesz);
  u32(4, desc.length);
  u32(8, 1);
  nameBuf.copy(b, 12);
  if (name === 'FreeBSD') u32(12 + align(namesz, 4), 1402000);
  return b;
}

/** Write an ELF (or any content) into a tree, making directories. */
export function put(root: string, inTree: string, content: Buffer | string, mode = 0o755): void {
  const p = root + inTree;
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}
