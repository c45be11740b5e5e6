// Program size against libpcap's optimizer (issue 14 §2), for the benchmark
// and the size test: our optimized program's length over libpcap 1.10.3's
// optimized one, per expression. Where ours is longer, a packet is looked
// for on which libpcap's optimized program and its own unoptimized program
// disagree: there, libpcap's shorter program is not one that keeps the
// unoptimized semantics, which ours must, so the extra length is excused.
import type { Insn } from '../../../src/bpf/insn.js';
import { compileFilter, linktypeByName } from '../../../src/bpf/compiler/index.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
import { alu } from '../../../src/bpf/compiler/bpf-eval.js';
import { randomPacket } from '../compiler/packets.js';
import { rng } from '../../helpers/rng.js';
import { oraclePrograms } from './oracle.js';
import { SUPPORTED_DLTS, tables } from '../compiler/tables.js';
import { parseImage } from '../compiler/image-parse.js';

export interface SizeRow {
  dlt: number;
  expr: string;
  ours: number;
  theirs: number;
  /** For a longer program: a packet on which libpcap's optimized and unoptimized programs disagree, if one was found. */
  excuse?: Excuse;
  /**
   * The excuse is of the other kind: libpcap 1.10.3's -O program disagrees
   * there with the optimized program libpcap's own accept table expects
   * (a 1.10.3 bug fixed since, such as `byte 8 & 5` testing an A nothing loaded).
   */
  byTable?: true;
}

/** One expression to measure; `expected` is the optimized program libpcap's accept table gives for it. */
export interface SizeItem {
  dlt: number;
  expr: string;
  expected?: Insn[];
}

/** A packet's captured bytes and its length on the wire (`len`, `greater`, `less` read the latter). */
export interface Excuse {
  packet: Uint8Array;
  wirelen: number;
}

export interface SizeSummary {
  compared: number;
  notLonger: number;
  /** More than 10% longer. */
  over10: number;
  longerExcused: number;
  /** Of those, excused by libpcap's own accept table (SizeRow.byTable). */
  longerExcusedByTable: number;
  /** Longer, and no packet found that excuses it. */
  longerUnexcused: number;
  over10Unexcused: number;
  /** Our length over libpcap's. */
  median: number;
  worst: number;
  worstUnexcused: number;
}

/**
 * A packet that follows one random path through `prog`: at each test of a
 * value loaded straight from the packet (perhaps masked), the bytes are
 * written so that the branch taken is the one drawn. Random packets rarely
 * pass `ether[12:2] = 0x86dd and ip6[8:4] = 0x20010db8`; these do.
 */
function guidedPacket(prog: readonly Insn[], base: Excuse, r: () => number, keep?: Guided): Guided {
  const p = base.packet.slice();
  // The bytes written to steer the path; those of `keep` (an earlier path's) are followed, not rewritten.
  const written = new Set<number>();
  // The wire length, chosen like a field when a test of `len` is met (it is not in the bytes).
  let wirelen = base.wirelen;
  let fromLen = false;
  let a = 0;
  let x = 0;
  const mem = new Array<number>(16).fill(0);
  // Where A came from: a load of `size` bytes at `at`, under `mask`; null after other arithmetic.
  let src: { at: number; size: number; mask: number } | null = null;
  const read = (at: number, size: number): number => {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + (p[at + i] ?? 0);
    return v >>> 0;
  };
  const write = (at: number, size: number, v: number): void => {
    for (let i = 0; i < size; i++) if (keep?.written.has(at + i) === true) return;
    for (let i = 0; i < size; i++) written.add(at + i);
    for (let i = size - 1; i >= 0; i--) {
      if (at + i < p.length) p[at + i] = v & 0xff;
      v = Math.floor(v / 256);
    }
  };
  for (let pc = 0, steps = 0; pc < prog.length && steps < 4096; steps++) {
    const ins = prog[pc];
    if (ins === undefined) break;
    const { code, k } = ins;
    const cls = code & 0x07;
    const size = (code & 0x18) === 0x00 ? 4 : (code & 0x18) === 0x08 ? 2 : 1;
    pc++;
    if (cls === 0x00 && ((code & 0xe0) === 0x20 || (code & 0xe0) === 0x40)) {
      const at = (code & 0xe0) === 0x20 ? k : x + k;
      a = read(at, size);
      src = { at, size, mask: size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff };
    } else if (cls === 0x00) {
      const mode = code & 0xe0;
      a = mode === 0x80 ? wirelen : mode === 0x60 ? (mem[k & 15] ?? 0) : k;
      src = null;
      fromLen = mode === 0x80;
      continue;
    } else if (code === 0xb1) {
      x = ((p[k] ?? 0) & 0xf) * 4;
    } else if (cls === 0x01) {
      const mode = code & 0xe0;
      x = mode === 0x80 ? wirelen : mode === 0x60 ? (mem[k & 15] ?? 0) : k;
    } else if (cls === 0x02 || cls === 0x03) {
      mem[k & 15] = cls === 0x02 ? a : x;
    } else if (code === 0x54 && src !== null) {
      a = (a & k) >>> 0;
      src = { at: src.at, size: src.size, mask: (src.mask & k) >>> 0 };
    } else if (cls === 0x04) {
      // The arithmetic itself (an index or a length computed from the packet), as the machine does it.
      a = alu(code & 0xf0, a, (code & 0x08) !== 0 ? x : k) ?? 0;
      src = null;
    } else if (code === 0x07) {
      x = a;
    } else if (code === 0x87) {
      a = x;
      src = null;
    } else if (cls === 0x05) {
      const op = code & 0xf0;
      if (op === 0x00) {
        pc += k;
        continue;
      }
      const want = r() < 0.5;
      if (src !== null && (code & 0x08) === 0) {
        const { at, size: sz, mask } = src;
        const rest = read(at, sz) & ~mask;
        let v: number | null = null;
        if (op === 0x10) v = want ? k & mask : null;
        else if (op === 0x20) v = want ? Math.min(mask, k + 1) : k & mask;
        else if (op === 0x30) v = want ? k & mask : Math.max(0, k - 1) & mask;
        else if (op === 0x40) v = want ? (k & mask) : 0;
        if (v !== null) {
          write(at, sz, (rest | v) >>> 0);
          a = read(at, sz) & mask;
        }
      } else if (fromLen && (code & 0x08) === 0) {
        // A test of the wire length: choose one that takes the branch drawn.
        const w = op === 0x10 ? (want ? k : k + 1) : op === 0x20 ? (want ? k + 1 : k) : op === 0x30 ? (want ? k : k - 1) : null;
        if (w !== null && w >= 0 && w <= 0xffff && keep?.written.has(-1) !== true) {
          a = wirelen = w;
          written.add(-1);
        }
      }
      const t = op === 0x10 ? a === k >>> 0 : op === 0x20 ? a > k >>> 0 : op === 0x30 ? a >= k >>> 0 : (a & k) !== 0;
      pc += t ? ins.jt : ins.jf;
    } else if (cls === 0x06) {
      break;
    }
    fromLen = false;
  }
  return { packet: p, wirelen, written };
}

/** A guided packet, and which of its bytes the path chose (-1 for the wire length). */
interface Guided extends Excuse {
  written: ReadonlySet<number>;
}

/**
 * A packet on which the two programs disagree: the empty one, random
 * packets of the link type and packets that follow random paths through
 * `b` and through `a` (guidedPacket), each at every length. A path through
 * the shorter program has fewer tests to pass to reach its end, so it finds
 * the truncated packets that a dropped load lets through more often.
 *
 * Each truncation is also tried at other wire lengths than the captured
 * one, never below it (a capture holds at most what was on the wire): the
 * untruncated length, the one the guided path chose, and each side of every
 * length the programs compare `len` against. libpcap's optimizer treats
 * `len` as if it could not differ from what a load may reach, so it can
 * drop a test of the wire length that decides a truncated packet.
 */
export function disagreement(a: readonly Insn[], b: readonly Insn[], dlt: number, seed: number, tries = 240): Excuse | undefined {
  const r = rng(seed);
  // The empty packet and short ones first: an optimizer that drops a load
  // that would fall off the packet differs there.
  const empty = new Uint8Array(0);
  if (interpret(a, empty, 0) !== interpret(b, empty, 0)) return { packet: empty, wirelen: 0 };
  const lens = lengthsTested(a, b);
  const wires = new Set<number>();
  for (let i = 0; i < tries; i++) {
    const raw = randomPacket(r, dlt);
    const kind = i % 4;
    let g: Excuse = { packet: raw, wirelen: raw.length };
    if (kind === 1) g = guidedPacket(b, g, r);
    else if (kind >= 2) {
      // Through `a`: a path it accepts, if a few draws find one (then its truncations are what `b` may refuse).
      let ga = guidedPacket(a, g, r);
      for (let j = 0; j < 8 && interpret(a, ga.packet, ga.wirelen) === 0; j++) {
        const raw2 = randomPacket(r, dlt);
        ga = guidedPacket(a, { packet: raw2, wirelen: raw2.length }, r);
      }
      // Then, keeping what that path chose, a path through `b`: the fields only `b` tests are chosen too
      // (the tests libpcap's optimizer dropped, which decide where `b` loads).
      g = kind === 2 ? ga : guidedPacket(b, ga, r, ga);
    }
    const p = g.packet;
    for (let n = p.length; n >= 0; n -= n > 96 ? 4 : 1) {
      const q = p.subarray(0, n);
      wires.clear();
      for (const w of [n, p.length, g.wirelen, ...lens]) if (w >= n) wires.add(w);
      for (const w of wires) if (interpret(a, q, w) !== interpret(b, q, w)) return { packet: q.slice(), wirelen: w };
    }
  }
  return undefined;
}

/** The wire lengths on each side of every constant that either program compares `len` against (a `ld len` then a jump on k). */
function lengthsTested(...progs: (readonly Insn[])[]): number[] {
  const out = new Set<number>();
  for (const prog of progs) {
    prog.forEach((ins, i) => {
      const next = prog[i + 1];
      if (ins.code !== 0x80 || next === undefined || (next.code & 0x07) !== 0x05 || (next.code & 0x08) !== 0) return;
      for (const d of [-1, 0, 1]) if (next.k + d >= 0) out.add(next.k + d);
    });
  }
  return [...out];
}

/** Compare every [dlt, expr] that both compilers compile. */
export function measureSizes(items: readonly SizeItem[]): { rows: SizeRow[]; summary: SizeSummary } {
  const pairs = items.map((e) => [e.dlt, e.expr] as const);
  const opt = oraclePrograms(pairs, true);
  const plain = oraclePrograms(pairs, false);
  const rows: SizeRow[] = [];
  items.forEach((e, i) => {
    const theirs = opt[i];
    const theirsPlain = plain[i];
    if (theirs === null || theirs === undefined || theirsPlain === null || theirsPlain === undefined) return;
    let ours: number;
    try {
      ours = compileFilter(e.expr, { linktype: e.dlt, resolveNames: false, optimize: true }).length;
    } catch {
      return;
    }
    const row: SizeRow = { dlt: e.dlt, expr: e.expr, ours, theirs: theirs.length };
    if (ours > theirs.length) {
      // Ten times the tries for a program more than 10% longer (the goal's limit): a few dozen rows, ~0.3 s each.
      const p = disagreement(theirs, theirsPlain, e.dlt, i + 1) ??
        (ours > theirs.length * 1.1 ? disagreement(theirs, theirsPlain, e.dlt, -(i + 1), 2400) : undefined);
      if (p !== undefined) row.excuse = p;
      else if (e.expected !== undefined) {
        const q = disagreement(theirs, e.expected, e.dlt, i + 1) ??
          (ours > theirs.length * 1.1 ? disagreement(theirs, e.expected, e.dlt, -(i + 1), 2400) : undefined);
        if (q !== undefined) {
          row.excuse = q;
          row.byTable = true;
        }
      }
    }
    rows.push(row);
  });
  const ratios = rows.map((r) => r.ours / r.theirs).sort((a, b) => a - b);
  const longer = rows.filter((r) => r.ours > r.theirs);
  const unexcused = longer.filter((r) => r.excuse === undefined);
  const summary: SizeSummary = {
    compared: rows.length,
    notLonger: rows.length - longer.length,
    over10: rows.filter((r) => r.ours > r.theirs * 1.1).length,
    longerExcused: longer.length - unexcused.length,
    longerExcusedByTable: longer.filter((r) => r.byTable === true).length,
    longerUnexcused: unexcused.length,
    over10Unexcused: unexcused.filter((r) => r.ours > r.theirs * 1.1).length,
    median: ratios[ratios.length >> 1] ?? 1,
    worst: ratios[ratios.length - 1] ?? 1,
    worstUnexcused: Math.max(1, ...unexcused.map((r) => r.ours / r.theirs)),
  };
  return { rows, summary };
}

/** One line for the benchmark's output. */
export function sizeLine(label: string, s: SizeSummary): string {
  const pct = (n: number, of = s.compared): string => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
  // The share not longer, also among the expressions whose extra length is not excused (the 95%).
  const fair = s.compared - s.longerExcused;
  return `program size vs libpcap -O, ${label}: ${String(s.compared)} expressions; not longer ${pct(s.notLonger)} ` +
    `(${pct(s.notLonger, fair)} of the ${String(fair)} not excused); longer ${pct(s.compared - s.notLonger)} ` +
    `(${String(s.longerExcused)} excused by a packet where libpcap's -O and its unoptimized program disagree` +
    (s.longerExcusedByTable > 0 ? ` or, for ${String(s.longerExcusedByTable)}, where 1.10.3's -O program disagrees with the one libpcap's own accept table expects` : '') +
    `, ${String(s.longerUnexcused)} not); ` +
    `>10% longer ${String(s.over10)} (${String(s.over10Unexcused)} not excused); median ratio ${s.median.toFixed(3)}, worst ${s.worst.toFixed(3)}, worst not excused ${s.worstUnexcused.toFixed(3)}\n`;
}

/** libpcap's accept table as size items, with the optimized program the table expects for each. */
export function acceptSizeItems(): SizeItem[] {
  const out: SizeItem[] = [];
  for (const b of tables().accept) {
    const dlt = linktypeByName(b.DLT);
    if (dlt === undefined || !SUPPORTED_DLTS.has(b.DLT)) continue;
    const text = b.opt ?? b.optunopt;
    const expected = typeof text === 'string' ? parseImage(text) : null;
    for (const expr of b.aliases) out.push(expected === null ? { dlt, expr } : { dlt, expr, expected });
  }
  return out;
}
