// The confinement checker: proves, for any classic BPF program, that every
// path to a non-zero return passes the confinement test. It is an abstract
// interpretation over the program's paths (forward jumps only): the state
// holds what A, X and M[] are (abstract.ts: a constant, a masked packet load
// at a fixed or computed offset, an expression of the packet, or unknown),
// the packet bits that the branches taken so far have pinned down, and the
// field values they have ruled out. A state is "confined" for good once the
// link layer's decision tree, walked on those facts alone, reaches an IP
// header whose bytes satisfy one of the policy's alternatives (packet bytes
// never change, and every computed offset is named by the packet bytes it is
// computed from). Every return of a non-zero value must be reached only in
// confined states.
//
// Why a tenant's program spliced after the jail cannot escape: the jail's
// accepting exits are reached only in confined states, and confinement is a
// fact about the packet, not about A, X or M[]; whatever the tenant's code
// then does to the registers or scratch memory, the state stays confined.
import type { Program } from '../insn.js';
import { step, symKey, UNKNOWN, type Regs, type Sym } from './abstract.js';
import { factsKey, fieldKey, pin, rule, type Facts } from './facts.js';
import type { LinkLayer } from './link-layers.js';
import type { ConfinePolicy } from './policy.js';
import { TreeWalker, type Summary } from './tree-walk.js';

/** Above this many explored (instruction, state) pairs the checker gives up: "cannot prove". */
export const MAX_STATES = 200_000;

interface State extends Regs, Facts {
  confined: boolean;
  /** How far down the link layer's tree this packet's path is known to go (tree-walk.ts). */
  at: Summary;
}

export type CheckResult =
  | { ok: true; states: number }
  | { ok: false; index: number; reason: string };

const keyOf = (s: Sym): string => symKey(s) ?? 'u';
const singleBit = (x: number): boolean => x !== 0 && (x & (x - 1)) === 0;

/** Check `prog` against the confinement of `policy` on `link`. */
export function checkConfinement(prog: Program, link: LinkLayer, policy: ConfinePolicy): CheckResult {
  const tree = new TreeWalker(link, policy);
  const confined: State = { confined: true, A: UNKNOWN, X: UNKNOWN, M: [], bits: new Map(), neq: new Set(), at: tree.root };
  const stateKey = (s: State): string =>
    s.confined ? 'C' : `${keyOf(s.A)}|${keyOf(s.X)}|${s.M.map(keyOf).join(',')}|${tree.summaryKey(s.at)}|${factsKey(s)}`;
  const settle = (s: State | undefined): State | undefined => {
    if (s === undefined || s.confined) return s;
    const r = tree.advance(s, s.at);
    return r.allowed ? confined : r.at === s.at ? s : { ...s, ...r.facts, at: r.at };
  };
  const seen = new Map<number, Set<string>>();
  const start: State = { confined: false, A: { t: 'c', v: 0 }, X: { t: 'c', v: 0 }, M: new Array<Sym>(16).fill(UNKNOWN), bits: new Map(), neq: new Set(), at: tree.root };
  const work: [number, State][] = [[0, settle(start) ?? start]];
  let explored = 0;
  while (work.length > 0) {
    const item = work.pop();
    if (item === undefined) break;
    const [pc, s] = item;
    const ins = prog[pc];
    if (ins === undefined) continue; // off the end: the interpreter rejects
    const key = stateKey(s);
    let set = seen.get(pc);
    if (set === undefined) seen.set(pc, (set = new Set()));
    if (set.has(key)) continue;
    set.add(key);
    if (++explored > MAX_STATES) return { ok: false, index: pc, reason: `more than ${String(MAX_STATES)} program states to explore` };
    const k = ins.k >>> 0;
    const code = ins.code;
    const next = (st: State | undefined, to = pc + 1): void => {
      // Only new facts can move the walk down the tree: registers alone do not.
      const settled = st?.bits === s.bits && st.neq === s.neq ? st : settle(st);
      if (settled !== undefined) work.push([to, settled]);
    };
    if (code === 0x06) {
      if (k !== 0 && !s.confined) return { ok: false, index: pc, reason: `ret #${String(k)} is reachable by a packet the confinement does not allow` };
      continue;
    }
    if (code === 0x16 || code === 0x0e) {
      const v = code === 0x16 ? s.A : s.X;
      if (!s.confined && !(v.t === 'c' && v.v === 0)) return { ok: false, index: pc, reason: 'ret of a register is reachable by a packet the confinement does not allow' };
      continue;
    }
    if (code === 0x05) {
      if ((k | 0) < 0) return { ok: false, index: pc, reason: 'backward jump: the checker proves forward-only programs' };
      next(s, pc + 1 + k);
      continue;
    }
    if ((code & 0x07) !== 0x05) {
      const r = step(ins, s);
      if (r === 'reject' || r === undefined) continue; // the packet is rejected here (or the instruction is unknown: rejects)
      next(s.confined ? s : { ...s, ...r });
      continue;
    }
    const tPc = pc + 1 + ins.jt;
    const fPc = pc + 1 + ins.jf;
    if (s.confined) {
      next(s, tPc);
      if (fPc !== tPc) next(s, fPc);
      continue;
    }
    const op = code & 0xf0;
    const A = s.A;
    const operand: Sym = (code & 0x08) !== 0 ? s.X : { t: 'c', v: k };
    if (A.t === 'c' && operand.t === 'c' && op <= 0x40) {
      const a = A.v;
      const b = operand.v;
      const taken = op === 0x10 ? a === b : op === 0x20 ? a > b : op === 0x30 ? a >= b : (a & b) !== 0;
      next(s, taken ? tPc : fPc);
      continue;
    }
    if (A.t === 'l' && operand.t === 'c') {
      const v = operand.v;
      if (op === 0x10) {
        next(pin(s, A, v), tPc);
        // A false equality pins a bit when the field is one bit wide; otherwise it rules the value out.
        const ruled = tree.otherwiseFields(s.at).has(fieldKey(A)) ? rule(s, A, v) : s;
        next(singleBit(A.mask) && (v === 0 || v === A.mask) ? pin(s, A, v === 0 ? A.mask : 0) : ruled, fPc);
        continue;
      }
      if (op === 0x40) {
        const mm = (A.mask & v) >>> 0;
        if (mm !== 0) next(singleBit(mm) ? pin(s, { ...A, mask: mm }, mm) : s, tPc);
        next(pin(s, { ...A, mask: mm }, 0), fPc);
        continue;
      }
    }
    next(s, tPc);
    next(s, fPc);
  }
  return { ok: true, states: explored };
}
