// What a dynamic loader assumes about the system it runs on: the target
// (OS, class, byte order, machine), glibc's and FreeBSD rtld's default
// interpreter and library directories, the values of $LIB and $PLATFORM,
// and the glibc-hwcaps subdirectories this CPU may use.
import { readFileSync } from 'node:fs';
import { machine as hostMachine } from 'node:os';
import { posix } from 'node:path';
import { ELFOSABI_FREEBSD, ELFOSABI_GNU, ELFOSABI_SYSV, machineName, type ElfInfo } from './elf-reader.js';
import type { Tree } from './tree.js';

export type TargetOs = 'linux' | 'freebsd';

export interface Target {
  os: TargetOs;
  bits: 32 | 64;
  littleEndian: boolean;
  machine: number;
}

/** The target an executable implies. EI_OSABI 0 with no ABI note is taken as the tree's own OS. */
export function targetOf(elf: ElfInfo, treeOs: TargetOs): Target {
  return { os: elf.os ?? treeOs, bits: elf.bits, littleEndian: elf.littleEndian, machine: elf.machine };
}

/**
 * Can an object with these headers be loaded into a process of this target?
 * glibc's open_verify and FreeBSD's rtld reject other classes, byte orders
 * and machines; glibc accepts EI_OSABI SYSV and GNU only.
 */
export function compatible(t: Target, e: ElfInfo): string | undefined {
  if (e.bits !== t.bits) return `ELF${e.bits} where ELF${t.bits} is needed`;
  if (e.littleEndian !== t.littleEndian) return 'wrong byte order';
  if (e.machine !== t.machine) return `${machineName(e.machine)} where ${machineName(t.machine)} is needed`;
  const abiOk = t.os === 'linux' ? e.osabi === ELFOSABI_SYSV || e.osabi === ELFOSABI_GNU : e.osabi === ELFOSABI_SYSV || e.osabi === ELFOSABI_FREEBSD;
  if (!abiOk || (e.os !== undefined && e.os !== t.os)) return `OS ABI ${e.os ?? String(e.osabi)} where ${t.os} is needed`;
  return undefined;
}

interface LinuxArch {
  triplet: string;
  interp: string;
  platform: string;
}

function linuxArch(t: Target): LinuxArch | undefined {
  switch (t.machine) {
    case 62:
      return t.bits === 64 ? { triplet: 'x86_64-linux-gnu', interp: '/lib64/ld-linux-x86-64.so.2', platform: 'x86_64' } : { triplet: 'x86_64-linux-gnux32', interp: '/libx32/ld-linux-x32.so.2', platform: 'x86_64' };
    case 3:
      return { triplet: 'i386-linux-gnu', interp: '/lib/ld-linux.so.2', platform: 'i686' };
    case 183:
      return { triplet: 'aarch64-linux-gnu', interp: '/lib/ld-linux-aarch64.so.1', platform: 'aarch64' };
    case 40:
      return { triplet: 'arm-linux-gnueabihf', interp: '/lib/ld-linux-armhf.so.3', platform: 'v7l' };
    case 243:
      return { triplet: 'riscv64-linux-gnu', interp: '/lib/ld-linux-riscv64-lp64d.so.1', platform: 'riscv64' };
    case 21:
      return t.littleEndian ? { triplet: 'powerpc64le-linux-gnu', interp: '/lib64/ld64.so.2', platform: 'power9' } : { triplet: 'powerpc64-linux-gnu', interp: '/lib64/ld64.so.1', platform: 'power9' };
    case 22:
      return { triplet: 's390x-linux-gnu', interp: '/lib/ld64.so.1', platform: 'z13' };
    default:
      return undefined;
  }
}

/** The interpreter a dynamic object without PT_INTERP is run with (what ldd(1) picks). */
export function defaultInterp(t: Target): string | undefined {
  if (t.os === 'freebsd') return t.bits === 32 && t.machine === 3 ? '/libexec/ld-elf32.so.1' : '/libexec/ld-elf.so.1';
  return linuxArch(t)?.interp;
}

/** Debian's multiarch lib dir when the tree has one, else lib64 or lib as glibc's slibdir. */
export function libDir(t: Target, tree: Tree): string {
  const a = linuxArch(t);
  if (a !== undefined) {
    const multi = `lib/${a.triplet}`;
    if (tree.resolve(`/${multi}`) !== undefined || tree.resolve(`/usr/${multi}`) !== undefined) return multi;
  }
  return t.bits === 64 ? 'lib64' : 'lib';
}

/** AT_PLATFORM, the value of $PLATFORM: the host's own when it is the same machine. */
export function platformName(t: Target): string {
  const host = hostMachine();
  const a = linuxArch(t);
  if (t.machine === 62 && t.bits === 64 && host === 'x86_64') return host;
  if (t.machine === 183 && host === 'aarch64') return host;
  return a?.platform ?? 'unknown';
}

/**
 * The system directories glibc searches last (ld.so's SYSTEM_DIRS), in order.
 * Debian builds them from the multiarch triplet; other distributions use lib64.
 */
export function systemDirs(t: Target, tree: Tree): string[] {
  if (t.os === 'freebsd') return t.bits === 32 && t.machine === 3 && tree.resolve('/usr/lib32') !== undefined ? ['/lib32', '/usr/lib32'] : ['/lib', '/usr/lib'];
  const lib = libDir(t, tree);
  const dirs = lib === 'lib64' || lib === 'lib' ? [`/${lib}`, `/usr/${lib}`] : [`/${lib}`, `/usr/${lib}`, '/lib', '/usr/lib'];
  return [...new Set(dirs)];
}

/**
 * Subdirectories glibc 2.33+ tries in every search directory before the
 * directory itself: glibc-hwcaps/<level> for the x86-64 ISA levels this CPU
 * supports (psABI "Micro-architecture levels"), best first. glibc 2.36 also
 * still tries the legacy tls/ and $PLATFORM subdirectories.
 */
export function hwcapsSubdirs(t: Target): string[] {
  if (t.os !== 'linux') return [];
  const subdirs: string[] = [];
  if (t.machine === 62 && t.bits === 64 && hostMachine() === 'x86_64') {
    const flags = cpuFlags();
    const v2 = ['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3'].every((f) => flags.has(f));
    const v3 = v2 && ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'].every((f) => flags.has(f));
    const v4 = v3 && ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'].every((f) => flags.has(f));
    if (v4) subdirs.push('glibc-hwcaps/x86-64-v4');
    if (v3) subdirs.push('glibc-hwcaps/x86-64-v3');
    if (v2) subdirs.push('glibc-hwcaps/x86-64-v2');
    subdirs.push('tls/x86_64/x86_64', 'tls/x86_64', 'tls', 'x86_64/x86_64', 'x86_64');
  }
  return subdirs;
}

let flagsMemo: Set<string> | undefined;

function cpuFlags(): Set<string> {
  if (flagsMemo !== undefined) return flagsMemo;
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    text = '';
  }
  const line = /^flags\s*:(.*)$/m.exec(text)?.[1] ?? '';
  flagsMemo = new Set(line.trim().split(/\s+/));
  return flagsMemo;
}

/**
 * Expand the dynamic string tokens of a search path or DT_NEEDED entry
 * (ld.so(8) "Dynamic string tokens"; FreeBSD rtld(1) adds $OSNAME and
 * $OSREL). Returns undefined when the string uses $ORIGIN and no origin is
 * known, as glibc then drops that element.
 */
export function expandTokens(s: string, t: Target, origin: string | undefined, tree: Tree): string | undefined {
  if (!s.includes('$')) return s;
  const state = { failed: false };
  const out = s.replace(/\$(\{(\w+)\}|(\w+))/g, (whole, _b: string, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    switch (name) {
      case 'ORIGIN':
        if (origin === undefined) state.failed = true;
        return origin ?? '';
      case 'LIB':
        return t.os === 'linux' ? libDir(t, tree) : whole;
      case 'PLATFORM':
        return platformName(t);
      case 'OSNAME':
        return t.os === 'freebsd' ? 'FreeBSD' : whole;
      default:
        return whole;
    }
  });
  return state.failed ? undefined : posix.normalize(out);
}

/** Split a DT_RPATH / DT_RUNPATH / ld.so.hints list. Empty elements mean the current directory in glibc; we skip them. */
export function splitSearchPath(list: string): string[] {
  return list.split(':').filter((d) => d !== '');
}
