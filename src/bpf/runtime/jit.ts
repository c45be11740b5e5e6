// A JIT from classic BPF to JavaScript. Forward-only programs become
// straight-line code inside nested labelled blocks: every jump target t gets a
// block `Lt: { ... }` that ends right before instruction t, so a forward jump
// is `break Lt` and V8 sees plain structured control flow. Programs with
// backward jumps (protochain) or too many targets fall back to a switch in a
// loop. Semantics are the interpreter's, exactly.
//
// Speed: A, X and the scratch words are kept as int32 (the u32 bit pattern),
// so V8 keeps them in machine registers instead of boxing values ≥ 2^31;
// only unsigned comparisons, division and returns convert with `>>> 0`. A
// packet-length check is left out where a check reaching at least as far
// has passed on every path to it (the program only jumps forward, so that
// is one pass in instruction order).
import { BPF_MEMWORDS, type Program } from '../insn.js';
import { MAX_STEPS } from './interpreter.js';

/** A compiled filter: `p` the captured bytes, `wirelen` the length on the wire, `buflen` captured length (≤ p.length). */
export type JitFilter = (p: Uint8Array, wirelen: number, buflen: number) => number;

/** Above this many jump targets the nesting gets deep enough to worry V8's parser; use the switch loop. */
const MAX_LABELS = 1000;

/** Packet byte at offset expression `i`: `p[i]`, or `p[b + i]` for a packet inside a larger buffer. */
type At = (i: string) => string;

function loadExpr(at: At, size: number, o: string): string {
  if (size === 4) return `(${at(o)} << 24 | ${at(`${o} + 1`)} << 16 | ${at(`${o} + 2`)} << 8 | ${at(`${o} + 3`)})`;
  if (size === 2) return `(${at(o)} << 8 | ${at(`${o} + 1`)})`;
  return at(o);
}

const sizeOf = (code: number): number => ((code & 0x18) === 0x00 ? 4 : (code & 0x18) === 0x08 ? 2 : 1);

/** The statement for an ALU instruction; A and the operand are int32 holding u32 bits. */
function aluStmt(code: number, k: number): string {
  const x = (code & 0x08) !== 0;
  const src = x ? 'X' : String(k | 0);
  switch (code & 0xf0) {
    case 0x00:
      return `A = (A + ${src}) | 0;`;
    case 0x10:
      return `A = (A - ${src}) | 0;`;
    case 0x20:
      return `A = Math.imul(A, ${src});`;
    case 0x30:
      if (x) return 'if (X === 0) return 0; A = ((A >>> 0) / (X >>> 0)) | 0;';
      return k === 0 ? 'return 0;' : `A = ((A >>> 0) / ${String(k)}) | 0;`;
    case 0x90:
      if (x) return 'if (X === 0) return 0; A = ((A >>> 0) % (X >>> 0)) | 0;';
      return k === 0 ? 'return 0;' : `A = ((A >>> 0) % ${String(k)}) | 0;`;
    case 0x40:
      return `A = A | ${src};`;
    case 0x50:
      return `A = A & ${src};`;
    case 0xa0:
      return `A = A ^ ${src};`;
    case 0x60:
      if (x) return 'A = (X >>> 0) >= 32 ? 0 : A << X;';
      return k >= 32 ? 'A = 0;' : `A = A << ${String(k)};`;
    case 0x70:
      if (x) return 'A = (X >>> 0) >= 32 ? 0 : (A >>> X) | 0;';
      return k >= 32 ? 'A = 0;' : `A = (A >>> ${String(k)}) | 0;`;
    case 0x80:
      return code === 0x84 ? 'A = -A | 0;' : 'return 0;';
    default:
      return 'return 0;';
  }
}

/** The condition of a conditional jump, or undefined for an unknown one. */
function condition(code: number, k: number): string | undefined {
  const x = (code & 0x08) !== 0;
  switch (code & 0xf0) {
    case 0x10:
      return x ? 'A === X' : `A === ${String(k | 0)}`;
    case 0x20:
      return x ? '(A >>> 0) > (X >>> 0)' : `(A >>> 0) > ${String(k)}`;
    case 0x30:
      return x ? '(A >>> 0) >= (X >>> 0)' : `(A >>> 0) >= ${String(k)}`;
    case 0x40:
      return x ? '(A & X) !== 0' : `(A & ${String(k | 0)}) !== 0`;
    default:
      return undefined;
  }
}

/**
 * The JavaScript for one instruction. `jump(t)` renders a transfer to
 * instruction t (t may be past the end, which rejects); `known` is a packet
 * length every path to this instruction has already checked.
 */
function statement(prog: Program, i: number, at: At, known: number, jump: (t: number) => string): string {
  const ins = prog[i];
  if (ins === undefined) return 'return 0;';
  const k = ins.k >>> 0;
  const code = ins.code;
  switch (code) {
    case 0x06:
      return `return ${String(k)};`;
    case 0x16:
      return 'return A >>> 0;';
    case 0x0e:
      return 'return X >>> 0;';
    case 0x20:
    case 0x28:
    case 0x30: {
      const end = k + sizeOf(code);
      const load = `A = ${loadExpr(at, sizeOf(code), String(k))};`;
      return end <= known ? load : `if (${String(end)} > n) return 0; ${load}`;
    }
    case 0x40:
    case 0x48:
    case 0x50: {
      // As libpcap: X and k are checked apart, so X + k cannot wrap (X is read as u32).
      const end = k + sizeOf(code);
      return `if (${String(end)} > n || (X >>> 0) > n - ${String(end)}) return 0; o = X + ${String(k)}; A = ${loadExpr(at, sizeOf(code), 'o')};`;
    }
    case 0x80:
      return 'A = wirelen | 0;';
    case 0x81:
      return 'X = wirelen | 0;';
    case 0xb1: {
      const load = `X = (${at(String(k))} & 15) << 2;`;
      return k + 1 <= known ? load : `if (${String(k)} >= n) return 0; ${load}`;
    }
    case 0x00:
      return `A = ${String(k | 0)};`;
    case 0x01:
      return `X = ${String(k | 0)};`;
    case 0x60:
      return k < BPF_MEMWORDS ? `A = m${String(k)};` : 'A = 0;';
    case 0x61:
      return k < BPF_MEMWORDS ? `X = m${String(k)};` : 'X = 0;';
    case 0x02:
      return k < BPF_MEMWORDS ? `m${String(k)} = A;` : '';
    case 0x03:
      return k < BPF_MEMWORDS ? `m${String(k)} = X;` : '';
    case 0x07:
      return 'X = A;';
    case 0x87:
      return 'A = X;';
    case 0x05: {
      const t = i + 1 + (k | 0);
      return t < 0 ? 'return 0;' : jump(t);
    }
    default:
      break;
  }
  if ((code & 0x07) === 0x05) {
    const c = condition(code, k);
    if (c === undefined) return 'return 0;';
    const tt = i + 1 + ins.jt;
    const tf = i + 1 + ins.jf;
    if (tt === tf) return jump(tt);
    return `if (${c}) { ${jump(tt)} } else { ${jump(tf)} }`;
  }
  if ((code & 0x07) === 0x04) return aluStmt(code, k);
  return 'return 0;';
}

function targets(prog: Program): { set: Set<number>; backward: boolean } {
  const set = new Set<number>();
  let backward = false;
  prog.forEach((ins, i) => {
    if (ins.code === 0x05) {
      const t = i + 1 + (ins.k | 0);
      if (t <= i) backward = true;
      set.add(t);
    } else if ((ins.code & 0x07) === 0x05) {
      set.add(i + 1 + ins.jt);
      set.add(i + 1 + ins.jf);
    }
  });
  return { set, backward };
}

/**
 * For a forward-only program: the packet length known to be available on
 * entry to each instruction (the minimum over all paths of the largest
 * successful check), so later checks it covers can go.
 */
function knownLengths(prog: Program): number[] {
  const n = prog.length;
  const known = new Array<number>(n + 1).fill(Infinity);
  known[0] = 0;
  const reach = (t: number, v: number): void => {
    if (t >= 0 && t <= n) known[t] = Math.min(known[t] ?? Infinity, v);
  };
  for (let i = 0; i < n; i++) {
    const ins = prog[i];
    let v = known[i] ?? Infinity;
    if (ins === undefined || v === Infinity) continue; // unreachable
    const code = ins.code;
    // After a load succeeds, the packet holds at least its last byte (an indexed one reaches past k + size too).
    if (code === 0x20 || code === 0x28 || code === 0x30 || code === 0x40 || code === 0x48 || code === 0x50) v = Math.max(v, (ins.k >>> 0) + sizeOf(code));
    else if (code === 0xb1) v = Math.max(v, (ins.k >>> 0) + 1);
    const cls = code & 0x07;
    if (cls === 0x06) continue;
    if (code === 0x05) reach(i + 1 + (ins.k | 0), v);
    else if (cls === 0x05) {
      reach(i + 1 + ins.jt, v);
      reach(i + 1 + ins.jf, v);
    } else reach(i + 1, v);
  }
  return known;
}

const PROLOGUE = `let A = 0, X = 0, o = 0;
${Array.from({ length: BPF_MEMWORDS }, (_, i) => `m${String(i)} = 0`).join(', ').replace(/^/, 'let ')};
`;

/**
 * The JavaScript source of the filter's body: parameters (p, wirelen, n), or
 * with `based` (p, b, n, wirelen) for a packet at offset b of a larger buffer.
 */
export function jitSource(prog: Program, based = false): string {
  const at: At = based ? (i) => `p[b + ${i}]` : (i) => `p[${i}]`;
  // Never read past the buffer, whatever length the caller claims.
  const clamp = based ? 'if (n > p.length - b) n = p.length - b;\n' : 'if (n > p.length) n = p.length;\n';
  return body(prog, at, clamp + PROLOGUE);
}

function body(prog: Program, at: At, prologue: string): string {
  const { set, backward } = targets(prog);
  const n = prog.length;
  if (!backward && set.size <= MAX_LABELS) {
    const known = knownLengths(prog);
    const inside = [...set].filter((t) => t <= n).sort((a, b) => b - a);
    const jump = (t: number): string => (t > n ? 'return 0;' : `break L${String(t)};`);
    const out: string[] = [prologue];
    for (const t of inside) out.push(`L${String(t)}: {`);
    const open = new Set(inside);
    for (let i = 0; i <= n; i++) {
      if (open.has(i)) out.push(`} // L${String(i)}`);
      if (i < n && known[i] !== Infinity) out.push(statement(prog, i, at, known[i] ?? 0, jump));
    }
    out.push('return 0;');
    return out.join('\n');
  }
  const jump = (t: number): string => `pc = ${String(t)}; continue;`;
  const cases = prog.map((_, i) => `case ${String(i)}: if (++steps > ${String(MAX_STEPS)}) return 0; ${statement(prog, i, at, 0, jump)}`);
  return `${prologue}let pc = 0, steps = 0;
for (;;) {
switch (pc) {
${cases.join('\n')}
default: return 0;
}
}`;
}

/** A compiled filter for a packet stored at offset `b` of a larger buffer `p` (e.g. a ring or a whole capture). */
export type BasedFilter = (p: Uint8Array, b: number, buflen: number, wirelen: number) => number;

/** Compile to the based form: no per-packet view object is needed, which is faster over packets packed in one buffer. */
export function jitBased(prog: Program): BasedFilter {
  // The source is generated from numbers only (opcodes and constants), never from user text.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('p', 'b', 'n', 'wirelen', jitSource(prog, true)) as BasedFilter;
}

/** Compile a program to a JavaScript function. */
export function jit(prog: Program): JitFilter {
  // The source is generated from numbers only (opcodes and constants), never from user text.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('p', 'wirelen', 'n', jitSource(prog)) as JitFilter;
}
