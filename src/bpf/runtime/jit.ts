// A JIT from classic BPF to JavaScript. Forward-only programs become
// straight-line code inside nested labelled blocks: every jump target t gets a
// block `Lt: { ... }` that ends right before instruction t, so a forward jump
// is `break Lt` and V8 sees plain structured control flow. Programs with
// backward jumps (protochain) or too many targets fall back to a switch in a
// loop. Semantics are the interpreter's, exactly.
import { BPF_MEMWORDS, type Program } from '../insn.js';
import { MAX_STEPS } from './interpreter.js';

/** A compiled filter: `p` the captured bytes, `wirelen` the length on the wire, `buflen` captured length (≤ p.length). */
export type JitFilter = (p: Uint8Array, wirelen: number, buflen: number) => number;

/** Above this many jump targets the nesting gets deep enough to worry V8's parser; use the switch loop. */
const MAX_LABELS = 1000;

/** Packet byte i: `p[i]`, or `p[b + i]` for the based form that reads a packet inside a larger buffer. */
let at = (i: string): string => `p[${i}]`;

function loadExpr(size: number, o: string): string {
  if (size === 4) return `(${at(o)} * 16777216 + ((${at(`${o} + 1`)} << 16) | (${at(`${o} + 2`)} << 8) | ${at(`${o} + 3`)}))`;
  if (size === 2) return `((${at(o)} << 8) | ${at(`${o} + 1`)})`;
  return at(o);
}

function aluStmt(code: number, k: number): string | undefined {
  const src = (code & 0x08) !== 0 ? 'X' : String(k);
  switch (code & 0xf0) {
    case 0x00:
      return `A = (A + ${src}) >>> 0;`;
    case 0x10:
      return `A = (A - ${src}) >>> 0;`;
    case 0x20:
      return `A = Math.imul(A, ${src}) >>> 0;`;
    case 0x30:
      return `if (${src} === 0) return 0; A = (A / ${src}) >>> 0;`;
    case 0x90:
      return `if (${src} === 0) return 0; A = (A % ${src}) >>> 0;`;
    case 0x40:
      return `A = (A | ${src}) >>> 0;`;
    case 0x50:
      return `A = (A & ${src}) >>> 0;`;
    case 0xa0:
      return `A = (A ^ ${src}) >>> 0;`;
    case 0x60:
      return `A = ${src} >= 32 ? 0 : (A << ${src}) >>> 0;`;
    case 0x70:
      return `A = ${src} >= 32 ? 0 : A >>> ${src};`;
    case 0x80:
      return code === 0x84 ? 'A = -A >>> 0;' : undefined;
    default:
      return undefined;
  }
}

const CONDITIONS: Record<number, (k: string) => string> = {
  0x10: (k) => `A === ${k}`,
  0x20: (k) => `A > ${k}`,
  0x30: (k) => `A >= ${k}`,
  0x40: (k) => `(A & ${k}) !== 0`,
};

/**
 * The JavaScript for one instruction. `jump(t)` renders a transfer to
 * instruction t (t may be past the end, which rejects).
 */
function statement(prog: Program, i: number, jump: (t: number) => string): string {
  const ins = prog[i];
  if (ins === undefined) return 'return 0;';
  const k = ins.k >>> 0;
  const code = ins.code;
  switch (code) {
    case 0x06:
      return `return ${String(k)};`;
    case 0x16:
      return 'return A;';
    case 0x0e:
      return 'return X;';
    case 0x20:
    case 0x28:
    case 0x30: {
      const size = code === 0x20 ? 4 : code === 0x28 ? 2 : 1;
      return `if (${String(k + size)} > n) return 0; A = ${loadExpr(size, String(k))};`;
    }
    case 0x40:
    case 0x48:
    case 0x50: {
      const size = code === 0x40 ? 4 : code === 0x48 ? 2 : 1;
      return `o = X + ${String(k)}; if (o + ${String(size)} > n) return 0; A = ${loadExpr(size, 'o')};`;
    }
    case 0x80:
      return 'A = wirelen;';
    case 0x81:
      return 'X = wirelen;';
    case 0xb1:
      return `if (${String(k)} >= n) return 0; X = (${at(String(k))} & 15) << 2;`;
    case 0x00:
      return `A = ${String(k)};`;
    case 0x01:
      return `X = ${String(k)};`;
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
    const cond = CONDITIONS[code & 0xf0];
    if (cond === undefined) return 'return 0;';
    const c = cond((code & 0x08) !== 0 ? 'X' : String(k));
    const tt = i + 1 + ins.jt;
    const tf = i + 1 + ins.jf;
    if (tt === tf) return jump(tt);
    return `if (${c}) { ${jump(tt)} } else { ${jump(tf)} }`;
  }
  if ((code & 0x07) === 0x04) return aluStmt(code, k) ?? 'return 0;';
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

const PROLOGUE = `if (n > p.length) n = p.length;
let A = 0, X = 0, o = 0;
${Array.from({ length: BPF_MEMWORDS }, (_, i) => `m${String(i)} = 0`).join(', ').replace(/^/, 'let ')};
`;

/**
 * The JavaScript source of the filter's body: parameters (p, wirelen, n), or
 * with `based` (p, b, n, wirelen) for a packet at offset b of a larger buffer.
 */
export function jitSource(prog: Program, based = false): string {
  at = based ? (i: string): string => `p[b + ${i}]` : (i: string): string => `p[${i}]`;
  try {
    return body(prog, based ? PROLOGUE.replace('if (n > p.length) n = p.length;', 'if (n > p.length - b) n = p.length - b;') : PROLOGUE);
  } finally {
    at = (i: string): string => `p[${i}]`;
  }
}

function body(prog: Program, prologue: string): string {
  const { set, backward } = targets(prog);
  const n = prog.length;
  if (!backward && set.size <= MAX_LABELS) {
    const inside = [...set].filter((t) => t <= n).sort((a, b) => b - a);
    const jump = (t: number): string => (t > n ? 'return 0;' : `break L${String(t)};`);
    const out: string[] = [prologue];
    for (const t of inside) out.push(`L${String(t)}: {`);
    const open = new Set(inside);
    for (let i = 0; i <= n; i++) {
      if (open.has(i)) out.push(`} // L${String(i)}`);
      if (i < n) out.push(statement(prog, i, jump));
    }
    out.push('return 0;');
    return out.join('\n');
  }
  const jump = (t: number): string => `pc = ${String(t)}; continue;`;
  const cases = prog.map((_, i) => `case ${String(i)}: if (++steps > ${String(MAX_STEPS)}) return 0; ${statement(prog, i, jump)}`);
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
