// Program size against libpcap's optimizer (issue 14 §2), for the benchmark
// and the size test: our optimized program's length over libpcap 1.10.3's
// optimized one, per expression. Where ours is longer, a packet is looked
// for on which libpcap's optimized program and its own unoptimized program
// disagree: there, libpcap's shorter program is not one that keeps the
// unoptimized semantics, which ours must, so the extra length is excused.
import type { Insn } from '../../../src/bpf/insn.js';
import { compileFilter } from '../../../src/bpf/compiler/index.js';
import { interpret } from '../../../src/bpf/runtime/index.js';
import { randomPacket } from '../compiler/packets.js';
import { rng } from '../../helpers/rng.js';
import { oraclePrograms } from './oracle.js';

export interface SizeRow {
  dlt: number;
  expr: string;
  ours: number;
  theirs: number;
  /** For a longer program: a packet on which libpcap's optimized and unoptimized programs disagree, if one was found. */
  excuse?: Uint8Array;
}

export interface SizeSummary {
  compared: number;
  notLonger: number;
  /** More than 10% longer. */
  over10: number;
  longerExcused: number;
  /** Longer, and no packet found that excuses it. */
  longerUnexcused: number;
  over10Unexcused: number;
  /** Our length over libpcap's. */
  median: number;
  worst: number;
  worstUnexcused: number;
}

/** A packet on which the two programs disagree, among random packets of the link type and their every prefix. */
export function disagreement(a: readonly Insn[], b: readonly Insn[], dlt: number, seed: number, tries = 40): Uint8Array | undefined {
  const r = rng(seed);
  // The empty packet and short ones first: an optimizer that drops a load
  // that would fall off the packet differs there.
  const empty = new Uint8Array(0);
  if (interpret(a, empty, 0) !== interpret(b, empty, 0)) return empty;
  for (let i = 0; i < tries; i++) {
    const p = randomPacket(r, dlt);
    for (let n = p.length; n >= 0; n -= n > 64 ? 8 : 1) {
      const q = p.subarray(0, n);
      if (interpret(a, q, q.length) !== interpret(b, q, q.length)) return q.slice();
    }
  }
  return undefined;
}

/** Compare every [dlt, expr] that both compilers compile. */
export function measureSizes(items: readonly { dlt: number; expr: string }[]): { rows: SizeRow[]; summary: SizeSummary } {
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
      const p = disagreement(theirs, theirsPlain, e.dlt, i + 1);
      if (p !== undefined) row.excuse = p;
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
  const pct = (n: number): string => `${((100 * n) / Math.max(1, s.compared)).toFixed(1)}%`;
  return `program size vs libpcap -O, ${label}: ${String(s.compared)} expressions; not longer ${pct(s.notLonger)}; longer ${pct(s.compared - s.notLonger)} ` +
    `(${String(s.longerExcused)} excused by a packet where libpcap's -O and its unoptimized program disagree, ${String(s.longerUnexcused)} not); ` +
    `>10% longer ${String(s.over10)} (${String(s.over10Unexcused)} not excused); median ratio ${s.median.toFixed(3)}, worst ${s.worst.toFixed(3)}, worst not excused ${s.worstUnexcused.toFixed(3)}\n`;
}
