// The names a dynamic ELF object imports: the undefined entries of its
// .dynsym (st_shndx == SHN_UNDEF), which the loader must bind to another
// object. `root build` uses them to tell whether a program calls the libc
// functions that dlopen() more libraries (see dlopen-hints.ts).
// Layouts from the System V gABI, "Sections" and "Symbol Table".
import { bad, BE, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, isElfMagic, LE, NotElfError, withElfSource, type Source } from './elf-reader.js';

const SHT_DYNSYM = 11;
const SHN_UNDEF = 0;
const MAX_SHNUM = 65280; // SHN_LORESERVE: past it the count lives in section 0
const MAX_SYMBOLS = 1 << 21;
const NAME_WINDOW = 256;

/**
 * The names of the undefined dynamic symbols of the ELF file at `path`,
 * strong and weak, without version suffixes; `undefined` when the file has
 * no section headers to find .dynsym by (stripped with sstrip, say), so the
 * caller cannot know.
 */
export function readImportedSymbols(path: string, displayName = path): string[] | undefined {
  return withElfSource(path, displayName, importedSymbols);
}

/** The same, for an ELF image in memory. */
export function importedSymbolsOf(buf: Buffer, name = '<buffer>'): string[] | undefined {
  return importedSymbols({
    size: buf.length,
    name,
    read(offset: number, length: number): Buffer {
      if (offset < 0 || length < 0 || offset + length > buf.length) throw bad(name, `range ${String(offset)}+${String(length)} lies past the end of the file`);
      return buf.subarray(offset, offset + length);
    },
  });
}

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

function importedSymbols(src: Source): string[] | undefined {
  if (src.size < 16) throw new NotElfError(src.name);
  const ident = src.read(0, 16);
  if (!isElfMagic(ident)) throw new NotElfError(src.name);
  const cls = ident[4];
  const data = ident[5];
  if ((cls !== ELFCLASS32 && cls !== ELFCLASS64) || (data !== ELFDATA2LSB && data !== ELFDATA2MSB)) throw bad(src.name, 'EI_CLASS or EI_DATA');
  const is64 = cls === ELFCLASS64;
  const r = data === ELFDATA2LSB ? LE : BE;
  const eh = src.read(0, is64 ? 64 : 52);
  const shoff = is64 ? r.u64(eh, 40) : r.u32(eh, 32);
  const shentsize = r.u16(eh, is64 ? 58 : 46);
  const shnum = r.u16(eh, is64 ? 60 : 48);
  if (shoff === 0 || shnum === 0) return undefined;
  if (shnum > MAX_SHNUM || shentsize < (is64 ? 64 : 40)) throw bad(src.name, `${String(shnum)} section headers of ${String(shentsize)} bytes`);
  const sh = src.read(shoff, shnum * shentsize);
  const section = (i: number): Section => {
    const o = i * shentsize;
    return is64
      ? { type: r.u32(sh, o + 4), offset: r.u64(sh, o + 24), size: r.u64(sh, o + 32), link: r.u32(sh, o + 40), entsize: r.u64(sh, o + 56) }
      : { type: r.u32(sh, o + 4), offset: r.u32(sh, o + 16), size: r.u32(sh, o + 20), link: r.u32(sh, o + 24), entsize: r.u32(sh, o + 36) };
  };
  let dynsym: Section | undefined;
  for (let i = 0; i < shnum && dynsym === undefined; i++) if (section(i).type === SHT_DYNSYM) dynsym = section(i);
  // A static executable has no .dynsym: it imports nothing.
  if (dynsym === undefined) return [];
  const entsize = is64 ? 24 : 16;
  if (dynsym.entsize !== entsize || dynsym.link >= shnum) throw bad(src.name, '.dynsym has a bad entry size or string table link');
  const count = Math.floor(dynsym.size / entsize);
  if (count > MAX_SYMBOLS) throw bad(src.name, `.dynsym holds ${String(count)} symbols`);
  const strtab = section(dynsym.link);
  if (strtab.offset + strtab.size > src.size) throw bad(src.name, '.dynstr lies past the end of the file');
  const syms = src.read(dynsym.offset, count * entsize);
  const names: string[] = [];
  // Entry 0 is the reserved null symbol.
  for (let i = 1; i < count; i++) {
    const o = i * entsize;
    const shndx = r.u16(syms, o + (is64 ? 6 : 14));
    const nameAt = r.u32(syms, o);
    if (shndx !== SHN_UNDEF || nameAt === 0) continue;
    names.push(stringAt(src, strtab, nameAt));
  }
  return names;
}

/** One NUL-terminated name from a string table, read a small window at a time (.dynstr can be megabytes). */
function stringAt(src: Source, table: Section, at: number): string {
  if (at >= table.size) throw bad(src.name, `symbol name offset ${String(at)} lies past .dynstr`);
  for (let want = NAME_WINDOW; ; want *= 16) {
    const n = Math.min(want, table.size - at);
    const b = src.read(table.offset + at, n);
    const end = b.indexOf(0);
    if (end >= 0) return b.toString('utf8', 0, end);
    if (n === table.size - at) return b.toString('utf8');
  }
}
