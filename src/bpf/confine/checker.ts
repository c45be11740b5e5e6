// The confinement checker: proves, for any classic BPF program, that every
// path to a non-zero return passes the confinement test. It is an abstract
// interpretation over the program's paths (forward jumps only): the state
// holds what A, X and M[] are known to be (a constant, a masked packet load,
// or unknown) and the packet bits that the branches taken so far have pinned
// down. A state whose pinned bits satisfy one of the policy's witnesses is
// "confined" for good (packet bytes never change), and every return of a
// non-zero value must be reached only in confined states.
import { alu } from '../runtime/interpreter.js';
import type { Program } from '../insn.js';
import type { Cond, LinkLayer } from './link-layers.js';
import { witnesses, type ConfinePolicy } from './policy.js';

/** Above this many explored (instruction, state) pairs the checker gives up: "cannot prove". */
export const MAX_STATES = 200_000;

type Sym = { t: 'c'; v: number } | { t: 'l'; off: number; size: number; mask: number } | { t: 'u' };

interface State {
  confined: boolean;
  A: Sym;
  X: Sym;
  M: Sym[];
  /** Pinned packet bits: offset → mask | value << 8. */
  bits: Map<number, number>;
}

export type CheckResult =
  | { ok: true; states: number }
  | { ok: false; index: number; reason: string };

const U: Sym = { t: 'u' };
const FULL: Record<number, number> = { 4: 0xffffffff, 2: 0xffff, 1: 0xff };

function symKey(s: Sym): string {
  return s.t === 'c' ? `c${String(s.v)}` : s.t === 'l' ? `l${String(s.off)},${String(s.size)},${String(s.mask)}` : 'u';
}

function stateKey(s: State): string {
  if (s.confined) return 'C';
  const bits = [...s.bits.entries()].sort((a, b) => a[0] - b[0]).map(([o, v]) => `${String(o)}:${String(v)}`).join(' ');
  return `${symKey(s.A)}|${symKey(s.X)}|${s.M.map(symKey).join(',')}|${bits}`;
}

/** The bytes a condition pins: [offset, mask, value]. */
function condBytes(c: { off: number; size: number; mask: number; value: number }): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let b = 0; b < c.size; b++) {
    const shift = 8 * (c.size - 1 - b);
    const m = (c.mask >>> shift) & 0xff;
    if (m !== 0) out.push([c.off + b, m, (c.value >>> shift) & m]);
  }
  return out;
}

/** Add pinned bits; undefined when they contradict what is known (the path cannot happen). */
function pin(s: State, off: number, size: number, mask: number, value: number): State | undefined {
  if ((value & ~mask) >>> 0 !== 0) return undefined;
  const bits = new Map(s.bits);
  for (const [o, m, v] of condBytes({ off, size, mask, value })) {
    const old = bits.get(o) ?? 0;
    const km = old & 0xff;
    const kv = old >>> 8;
    if (((kv ^ v) & km & m) !== 0) return undefined;
    bits.set(o, (km | m) | ((kv | v) << 8));
  }
  return { ...s, bits };
}

function satisfies(bits: Map<number, number>, w: [number, number, number][]): boolean {
  return w.every(([o, m, v]) => {
    const k = bits.get(o) ?? 0;
    return ((k & 0xff) & m) === m && ((k >>> 8) & m) === v;
  });
}

const singleBit = (x: number): boolean => x !== 0 && (x & (x - 1)) === 0;

/** Check `prog` against the confinement of `policy` on `link`. */
export function checkConfinement(prog: Program, link: LinkLayer, policy: ConfinePolicy): CheckResult {
  const ws = witnesses(link, policy).map((conj: Cond[]) => conj.flatMap(condBytes));
  const settle = (s: State | undefined): State | undefined => {
    if (s === undefined || s.confined) return s;
    return ws.some((w) => satisfies(s.bits, w)) ? { confined: true, A: U, X: U, M: [], bits: new Map() } : s;
  };
  const seen = new Map<number, Set<string>>();
  const work: [number, State][] = [[0, { confined: false, A: { t: 'c', v: 0 }, X: { t: 'c', v: 0 }, M: new Array<Sym>(16).fill(U), bits: new Map() }]];
  let explored = 0;
  while (work.length > 0) {
    const item = work.pop();
    if (item === undefined) break;
    const [pc, s0] = item;
    const ins = prog[pc];
    if (ins === undefined) continue; // off the end: the interpreter rejects
    const key = stateKey(s0);
    let set = seen.get(pc);
    if (set === undefined) seen.set(pc, (set = new Set()));
    if (set.has(key)) continue;
    set.add(key);
    if (++explored > MAX_STATES) return { ok: false, index: pc, reason: `more than ${String(MAX_STATES)} program states to explore` };
    const s = s0;
    const k = ins.k >>> 0;
    const code = ins.code;
    const next = (st: State | undefined, to = pc + 1): void => {
      const settled = settle(st);
      if (settled !== undefined) work.push([to, settled]);
    };
    const confinedState = s.confined;
    const setA = (A: Sym): State => (confinedState ? s : { ...s, A });
    const setX = (X: Sym): State => (confinedState ? s : { ...s, X });
    switch (code) {
      case 0x06:
        if (k !== 0 && !s.confined) return { ok: false, index: pc, reason: `ret #${String(k)} is reachable by a packet the confinement does not allow` };
        continue;
      case 0x16:
      case 0x0e: {
        const v = code === 0x16 ? s.A : s.X;
        if (!s.confined && !(v.t === 'c' && v.v === 0)) return { ok: false, index: pc, reason: 'ret of a register is reachable by a packet the confinement does not allow' };
        continue;
      }
      case 0x20:
      case 0x28:
      case 0x30: {
        const size = code === 0x20 ? 4 : code === 0x28 ? 2 : 1;
        next(setA({ t: 'l', off: k, size, mask: FULL[size] ?? 0 }));
        continue;
      }
      case 0x00:
        next(setA({ t: 'c', v: k }));
        continue;
      case 0x01:
        next(setX({ t: 'c', v: k }));
        continue;
      case 0x60:
        next(setA(s.M[k] ?? U));
        continue;
      case 0x61:
        next(setX(s.M[k] ?? U));
        continue;
      case 0x02:
      case 0x03: {
        if (s.confined || k >= 16) {
          next(s);
          continue;
        }
        const M = [...s.M];
        M[k] = code === 0x02 ? s.A : s.X;
        next({ ...s, M });
        continue;
      }
      case 0x07:
        next(setX(s.A));
        continue;
      case 0x87:
        next(setA(s.X));
        continue;
      case 0x05:
        if ((k | 0) < 0) return { ok: false, index: pc, reason: 'backward jump: the checker proves forward-only programs' };
        next(s, pc + 1 + k);
        continue;
      default:
        break;
    }
    const cls = code & 0x07;
    if (cls === 0x01 || cls === 0x00) {
      // ld/ldx [x+k], len, msh: a value we do not follow
      next(cls === 0x01 || code === 0xb1 ? setX(U) : setA(U));
      continue;
    }
    const operand: Sym = (code & 0x08) !== 0 ? s.X : { t: 'c', v: k };
    if (cls === 0x04) {
      if (s.confined) {
        next(s);
        continue;
      }
      if (s.A.t === 'c' && operand.t === 'c') {
        const r = alu(code, s.A.v, operand.v);
        if (r !== undefined) next(setA({ t: 'c', v: r })); // undefined: the packet is rejected here
      } else if (s.A.t === 'l' && operand.t === 'c' && (code & 0xf0) === 0x50) {
        next(setA({ ...s.A, mask: (s.A.mask & operand.v) >>> 0 }));
      } else {
        next(setA(U));
      }
      continue;
    }
    if (cls !== 0x05) continue; // unknown instruction: rejects
    const tPc = pc + 1 + ins.jt;
    const fPc = pc + 1 + ins.jf;
    if (s.confined) {
      next(s, tPc);
      if (fPc !== tPc) next(s, fPc);
      continue;
    }
    const op = code & 0xf0;
    const A = s.A;
    if (A.t === 'c' && operand.t === 'c') {
      const a = A.v;
      const b = operand.v;
      const taken = op === 0x10 ? a === b : op === 0x20 ? a > b : op === 0x30 ? a >= b : (a & b) !== 0;
      next(s, taken ? tPc : fPc);
      continue;
    }
    if (A.t === 'l' && operand.t === 'c') {
      const v = operand.v;
      if (op === 0x10) {
        next(pin(s, A.off, A.size, A.mask, v), tPc);
        // A false equality pins a bit when the field is one bit wide.
        next(singleBit(A.mask) && (v === 0 || v === A.mask) ? pin(s, A.off, A.size, A.mask, v === 0 ? A.mask : 0) : s, fPc);
        continue;
      }
      if (op === 0x40) {
        const mm = (A.mask & v) >>> 0;
        if (mm !== 0) next(singleBit(mm) ? pin(s, A.off, A.size, mm, mm) : s, tPc);
        next(pin(s, A.off, A.size, mm, 0), fPc);
        continue;
      }
    }
    next(s, tPc);
    next(s, fPc);
  }
  return { ok: true, states: explored };
}
