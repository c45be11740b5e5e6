// Reads what a loader needs from an ELF file's headers, without mapping or
// running it: class, byte order, machine, OS ABI, PT_INTERP, and the dynamic
// section's DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH and flags.
// Layouts from the System V gABI, "ELF Header", "Program Header" and
// "Dynamic Section" (https://www.sco.com/developers/gabi/latest/contents.html).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { MoatError, isErrnoException } from '../core/index.js';

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const ELFOSABI_SYSV = 0;
export const ELFOSABI_GNU = 3;
export const ELFOSABI_FREEBSD = 9;
export const ET_EXEC = 2;
export const ET_DYN = 3;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_LOAD = 1;
const PT_NOTE = 4;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const DT_FLAGS = 30;
const DT_FLAGS_1 = 0x6ffffffb;
/** DF_1_NODEFLIB: ignore the default library search path (gABI, DT_FLAGS_1). */
export const DF_1_NODEFLIB = 0x800;

// Bounds, so a hostile file cannot make us read or allocate without limit.
const MAX_PHNUM = 4096;
const MAX_DYNAMIC = 1 << 20;
const MAX_STRTAB = 16 << 20;
const MAX_INTERP = 4096;
/** First read for one dynamic string; longer names are read again with a wider window. */
const STRING_WINDOW = 256;
const MAX_NOTE = 8192;

export interface ElfInfo {
  /** 32 or 64. */
  bits: 32 | 64;
  littleEndian: boolean;
  osabi: number;
  type: number;
  machine: number;
  /** The OS the ABI note or EI_OSABI names, when it says: 'linux' or 'freebsd'. */
  os: 'linux' | 'freebsd' | undefined;
  interp: string | undefined;
  needed: string[];
  soname: string | undefined;
  rpath: string | undefined;
  runpath: string | undefined;
  flags1: number;
  /** Has a PT_DYNAMIC segment (static executables have none). */
  dynamic: boolean;
}

/** Thrown for files that are not ELF at all (scripts, data): callers often just skip these. */
export class NotElfError extends MoatError {
  constructor(file: string) {
    super('MOAT_ROOT_NOT_ELF', `${file}: not an ELF file`);
  }
}

function bad(file: string, why: string): MoatError {
  return new MoatError('MOAT_ROOT_BAD_ELF', `${file}: malformed ELF: ${why}`);
}

interface Reader {
  u16(b: Buffer, o: number): number;
  u32(b: Buffer, o: number): number;
  /** A 64-bit field as a number; offsets past 2^53 are malformed here anyway. */
  u64(b: Buffer, o: number): number;
}

const LE: Reader = {
  u16: (b, o) => b.readUInt16LE(o),
  u32: (b, o) => b.readUInt32LE(o),
  u64: (b, o) => Number(b.readBigUInt64LE(o)),
};
const BE: Reader = {
  u16: (b, o) => b.readUInt16BE(o),
  u32: (b, o) => b.readUInt32BE(o),
  u64: (b, o) => Number(b.readBigUInt64BE(o)),
};

/** Read once from the start of the file: headers, and often the dynamic strings, are all there. */
const HEAD = 64 * 1024;
/**
 * One buffer for every file's head: parsing is synchronous and keeps only
 * strings and numbers, so nothing refers to it once readElf returns, and
 * thousands of closures do not churn the garbage collector.
 */
const headBuf = Buffer.allocUnsafe(HEAD);

class FileSource {
  private head: Buffer | undefined;

  constructor(
    readonly fd: number,
    readonly size: number,
    readonly name: string,
  ) {}

  read(offset: number, length: number): Buffer {
    if (offset < 0 || length < 0 || offset + length > this.size) throw bad(this.name, `range ${offset}+${length} lies past the end of the file`);
    if (offset + length <= HEAD) {
      this.head ??= this.readInto(headBuf, 0, Math.min(HEAD, this.size));
      if (offset + length <= this.head.length) return this.head.subarray(offset, offset + length);
    }
    return this.readAt(offset, length);
  }

  private readAt(offset: number, length: number): Buffer {
    return this.readInto(Buffer.allocUnsafe(length), offset, length);
  }

  private readInto(buf: Buffer, offset: number, length: number): Buffer {
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw bad(this.name, 'file shrank while reading');
      done += n;
    }
    return buf.subarray(0, length);
  }
}

/** Is this buffer the start of an ELF file? */
export function isElfMagic(b: Buffer): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

/**
 * Parse the ELF file at `path`. The path is opened with O_NOFOLLOW and
 * O_NONBLOCK (a FIFO planted under a library's name must not hang us), and
 * must be a regular file.
 */
export function readElf(path: string, displayName = path): ElfInfo {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (isErrnoException(e) && e.code === 'ELOOP') throw new MoatError('MOAT_ROOT_SYMLINK', `${displayName}: is a symbolic link`);
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NotElfError(displayName);
    return parseElf(new FileSource(fd, st.size, displayName));
  } finally {
    closeSync(fd);
  }
}

/** Parse an ELF image held in memory (tests, fixtures). */
export function parseElfBuffer(buf: Buffer, name = '<buffer>'): ElfInfo {
  const src = {
    size: buf.length,
    name,
    read(offset: number, length: number): Buffer {
      if (offset < 0 || length < 0 || offset + length > buf.length) throw bad(name, `range ${offset}+${length} lies past the end of the file`);
      return buf.subarray(offset, offset + length);
    },
  };
  return parseElf(src);
}

interface Source {
  size: number;
  name: string;
  read(offset: number, length: number): Buffer;
}

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

function parseElf(src: Source): ElfInfo {
  if (src.size < 16) throw new NotElfError(src.name);
  const ident = src.read(0, 16);
  if (!isElfMagic(ident)) throw new NotElfError(src.name);
  const cls = ident[4];
  const data = ident[5];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) throw bad(src.name, `EI_CLASS ${String(cls)}`);
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) throw bad(src.name, `EI_DATA ${String(data)}`);
  const is64 = cls === ELFCLASS64;
  const r = data === ELFDATA2LSB ? LE : BE;
  const ehsize = is64 ? 64 : 52;
  if (src.size < ehsize) throw bad(src.name, 'truncated ELF header');
  const eh = src.read(0, ehsize);
  const type = r.u16(eh, 16);
  const machine = r.u16(eh, 18);
  const phoff = is64 ? r.u64(eh, 32) : r.u32(eh, 28);
  const phentsize = r.u16(eh, is64 ? 54 : 42);
  const phnum = r.u16(eh, is64 ? 56 : 44);
  const wantPhent = is64 ? 56 : 32;
  if (phnum > MAX_PHNUM) throw bad(src.name, `${phnum} program headers`);
  if (phnum > 0 && phentsize < wantPhent) throw bad(src.name, `e_phentsize ${phentsize}`);
  const segments: Segment[] = [];
  if (phnum > 0) {
    const ph = src.read(phoff, phnum * phentsize);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      segments.push(
        is64
          ? { type: r.u32(ph, o), offset: r.u64(ph, o + 8), vaddr: r.u64(ph, o + 16), filesz: r.u64(ph, o + 32) }
          : { type: r.u32(ph, o), offset: r.u32(ph, o + 4), vaddr: r.u32(ph, o + 8), filesz: r.u32(ph, o + 16) },
      );
    }
  }
  const info: ElfInfo = {
    bits: is64 ? 64 : 32,
    littleEndian: data === ELFDATA2LSB,
    osabi: ident[7] ?? 0,
    type,
    machine,
    os: osFromAbi(ident[7] ?? 0),
    interp: undefined,
    needed: [],
    soname: undefined,
    rpath: undefined,
    runpath: undefined,
    flags1: 0,
    dynamic: false,
  };
  for (const s of segments) {
    if (s.type === PT_INTERP) {
      if (s.filesz === 0 || s.filesz > MAX_INTERP) throw bad(src.name, `PT_INTERP of ${s.filesz} bytes`);
      info.interp = cString(src.read(s.offset, s.filesz), 0);
    } else if (s.type === PT_NOTE && info.os === undefined && s.filesz <= MAX_NOTE && s.offset + s.filesz <= src.size) {
      info.os = osFromNotes(src.read(s.offset, s.filesz), r);
    }
  }
  const dyn = segments.find((s) => s.type === PT_DYNAMIC);
  if (dyn !== undefined) readDynamic(src, r, is64, dyn, segments.filter((s) => s.type === PT_LOAD), info);
  return info;
}

function osFromAbi(osabi: number): ElfInfo['os'] {
  if (osabi === ELFOSABI_FREEBSD) return 'freebsd';
  if (osabi === ELFOSABI_GNU) return 'linux';
  return undefined;
}

/** The ABI tag notes: "GNU" type 1 (NT_GNU_ABI_TAG, OS 0 = Linux) and "FreeBSD" type 1 (NT_FREEBSD_ABI_TAG). */
function osFromNotes(b: Buffer, r: Reader): ElfInfo['os'] {
  let o = 0;
  while (o + 12 <= b.length) {
    const namesz = r.u32(b, o);
    const descsz = r.u32(b, o + 4);
    const type = r.u32(b, o + 8);
    const nameEnd = o + 12 + namesz;
    if (nameEnd > b.length) return undefined;
    const name = cString(b.subarray(o + 12, nameEnd), 0);
    const descAt = o + 12 + align4(namesz);
    if (type === 1 && name === 'FreeBSD') return 'freebsd';
    if (type === 1 && name === 'GNU' && descAt + 4 <= b.length && r.u32(b, descAt) === 0) return 'linux';
    o = descAt + align4(descsz);
  }
  return undefined;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function readDynamic(src: Source, r: Reader, is64: boolean, dyn: Segment, loads: Segment[], info: ElfInfo): void {
  info.dynamic = true;
  const size = Math.min(dyn.filesz, MAX_DYNAMIC);
  if (dyn.offset + size > src.size) throw bad(src.name, 'PT_DYNAMIC lies past the end of the file');
  const d = src.read(dyn.offset, size);
  const ent = is64 ? 16 : 8;
  let strtab: number | undefined;
  let strsz: number | undefined;
  const needed: number[] = [];
  let soname: number | undefined;
  let rpath: number | undefined;
  let runpath: number | undefined;
  for (let o = 0; o + ent <= d.length; o += ent) {
    const tag = is64 ? r.u64(d, o) : r.u32(d, o);
    const val = is64 ? r.u64(d, o + 8) : r.u32(d, o + 4);
    if (tag === DT_NULL) break;
    switch (tag) {
      case DT_NEEDED:
        needed.push(val);
        break;
      case DT_STRTAB:
        strtab = val;
        break;
      case DT_STRSZ:
        strsz = val;
        break;
      case DT_SONAME:
        soname = val;
        break;
      case DT_RPATH:
        rpath = val;
        break;
      case DT_RUNPATH:
        runpath = val;
        break;
      case DT_FLAGS_1:
        info.flags1 = val;
        break;
      case DT_FLAGS:
        break;
      default:
        break;
    }
  }
  if (strtab === undefined) {
    if (needed.length > 0 || soname !== undefined) throw bad(src.name, 'dynamic section has no DT_STRTAB');
    return;
  }
  // DT_STRTAB is an address: find the PT_LOAD that maps it to a file offset.
  const addr = strtab;
  const seg = loads.find((s) => addr >= s.vaddr && addr < s.vaddr + s.filesz);
  if (seg === undefined) throw bad(src.name, 'DT_STRTAB is not inside any PT_LOAD segment');
  const off = seg.offset + (addr - seg.vaddr);
  const avail = Math.min(seg.offset + seg.filesz - off, src.size - off, MAX_STRTAB);
  const len = Math.min(strsz ?? avail, avail);
  // Each name is read on its own, a small window at a time: the table can be
  // megabytes (node exports ~5 MB of symbol names) and we want a few names.
  const str = (i: number): string => {
    if (i >= len) throw bad(src.name, `string offset ${i} lies past DT_STRSZ`);
    for (let want = STRING_WINDOW; ; want *= 16) {
      const n = Math.min(want, len - i);
      const b = src.read(off + i, n);
      const end = b.indexOf(0);
      if (end >= 0) return b.toString('utf8', 0, end);
      // Unterminated: the name runs to the end of the table.
      if (n === len - i) return b.toString('utf8');
    }
  };
  info.needed = needed.map(str);
  if (soname !== undefined) info.soname = str(soname);
  // gABI: DT_RUNPATH supersedes DT_RPATH; glibc and FreeBSD rtld both drop RPATH when RUNPATH is there.
  if (runpath !== undefined) info.runpath = str(runpath);
  else if (rpath !== undefined) info.rpath = str(rpath);
}

function cString(b: Buffer, start: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 ? b.length : end);
}

/** Machine numbers we can name, for messages (gABI e_machine). */
export const MACHINE_NAMES: Readonly<Record<number, string>> = {
  3: 'i386',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64',
  22: 's390',
  40: 'arm',
  62: 'x86-64',
  183: 'aarch64',
  243: 'riscv',
};

export function machineName(m: number): string {
  return MACHINE_NAMES[m] ?? `machine ${m}`;
}
