// The jail program: the link layer's decision tree down to the IP header,
// then the policy's alternatives. Its accepting exits jump to a label ACCEPT
// and its rejecting exits to REJECT, both given by the caller, so the
// program can be spliced in front of another. Far jumps go through `ja`
// trampolines placed next to their node: conditional jumps reach 255 only.
// Nodes are laid out in a topological order of the tree (which may share
// subtrees), so every jump goes forward.
import { MoatError } from '../../core/index.js';
import type { Insn } from '../insn.js';
import type { Cond, Dispatch, LinkLayer, LinkNode } from './link-layers.js';
import { acceptAlternatives, type ConfinePolicy } from './policy.js';
import { policyRoot } from './policy-tree.js';

type Label = string;

interface Item {
  insn: Insn;
  jt?: Label;
  jf?: Label;
  ja?: Label;
}

const LD_ABS: Record<number, number> = { 4: 0x20, 2: 0x28, 1: 0x30 };
const LD_IND: Record<number, number> = { 4: 0x40, 2: 0x48, 1: 0x50 };
const FULL: Record<number, number> = { 4: 0xffffffff, 2: 0xffff, 1: 0xff };
/** X holds no known slot. */
const NONE = -1;

class Assembler {
  readonly items: Item[] = [];
  readonly labels = new Map<Label, number>();
  private n = 0;
  /** Which slot X holds here (NONE if unknown), and what each label's jumps bring. */
  private x = NONE;
  private readonly xAt = new Map<Label, number>();

  fresh(prefix: string): Label {
    return `${prefix}${String(this.n++)}`;
  }

  label(name: Label): void {
    const last = this.items[this.items.length - 1];
    const fallsThrough = last !== undefined && last.insn.code !== 0x05 && (last.insn.code & 0x07) !== 0x06 && last.jt === undefined;
    const arriving = this.xAt.get(name);
    this.x = arriving === undefined ? (fallsThrough ? this.x : NONE) : fallsThrough && this.x !== arriving ? NONE : arriving;
    this.labels.set(name, this.items.length);
  }

  emit(code: number, k = 0, targets: Omit<Item, 'insn'> = {}): void {
    this.items.push({ insn: { code, jt: 0, jf: 0, k: k >>> 0 }, ...targets });
    if (code === 0x61) this.x = k;
    else if (code === 0x07 || code === 0x01 || code === 0x81 || code === 0xb1) this.x = NONE;
    for (const l of [targets.jt, targets.jf, targets.ja]) {
      if (l === undefined || l === 'ACCEPT' || l === 'REJECT') continue;
      const had = this.xAt.get(l);
      this.xAt.set(l, had === undefined || had === this.x ? this.x : NONE);
    }
  }

  /** Load the field of `c` into A (masked); skipped when A already holds it. */
  load(c: Omit<Cond, 'value'>, held: string | undefined): string {
    const key = `${String(c.base ?? '')}/${String(c.off)}/${String(c.size)}/${String(c.mask)}`;
    if (held === key) return key;
    if (c.base === undefined) {
      this.emit(LD_ABS[c.size] ?? 0x20, c.off);
    } else {
      if (this.x !== c.base) this.emit(0x61, c.base); // ldx M[base]
      this.emit(LD_IND[c.size] ?? 0x40, c.off);
    }
    if (c.mask !== FULL[c.size]) this.emit(0x54, c.mask); // and #mask
    return key;
  }

  /** Resolve labels; `external` gives absolute positions outside these items. */
  resolve(external: ReadonlyMap<Label, number>): Insn[] {
    const where = (l: Label): number => {
      const at = this.labels.get(l) ?? external.get(l);
      if (at === undefined) throw new Error(`jail assembler: unknown label ${l}`);
      return at;
    };
    return this.items.map((it, i) => {
      const out = { ...it.insn };
      if (it.ja !== undefined) out.k = (where(it.ja) - i - 1) >>> 0;
      for (const f of ['jt', 'jf'] as const) {
        const l = it[f];
        if (l === undefined) continue;
        const d = where(l) - i - 1;
        if (d < 0 || d > 255) {
          throw new MoatError('MOAT_BPF_CONFINE_TOO_BIG', 'too many addresses for one confinement program: a jump would exceed 255 instructions');
        }
        out[f] = d;
      }
      return out;
    });
  }
}

const successors = (node: LinkNode): LinkNode[] =>
  node.kind === 'l3' ? [] : node.kind === 'compute' ? [node.next] : [...node.cases.map((c) => c.next), ...(node.otherwise === undefined ? [] : [node.otherwise])];

/** The tree's nodes, each after all that lead to it (Kahn's algorithm, breadth first). */
function topoOrder(root: LinkNode): LinkNode[] {
  const indegree = new Map<LinkNode, number>();
  const stack = [root];
  const seen = new Set<LinkNode>([root]);
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === undefined) break;
    for (const s of new Set(successors(n))) {
      indegree.set(s, (indegree.get(s) ?? 0) + 1);
      if (!seen.has(s)) {
        seen.add(s);
        stack.push(s);
      }
    }
  }
  const order: LinkNode[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const n = queue.shift();
    if (n === undefined) break;
    order.push(n);
    for (const s of new Set(successors(n))) {
      const d = (indegree.get(s) ?? 0) - 1;
      indegree.set(s, d);
      if (d === 0) queue.push(s);
    }
  }
  return order;
}

/**
 * Assemble the jail for `link` and `policy`. Returns a function placing it:
 * given the absolute positions of ACCEPT and REJECT, the instructions.
 */
export function jailProgram(link: LinkLayer, policy: ConfinePolicy): { length: number; place: (accept: number, reject: number) => Insn[] } {
  const asm = new Assembler();
  const labelOf = new Map<LinkNode, Label>();
  const nodeLabel = (node: LinkNode): Label => {
    let l = labelOf.get(node);
    if (l === undefined) labelOf.set(node, (l = asm.fresh('node')));
    return l;
  };
  const root = policyRoot(link, policy);
  const order = topoOrder(root);
  // Nodes from which every path rejects (an IP family the policy lets nothing of through): not emitted.
  const dead = new Set<LinkNode>();
  for (const node of [...order].reverse()) {
    const isDead =
      node.kind === 'l3' ? acceptAlternatives(node, link, policy).length === 0
      : node.kind === 'compute' ? dead.has(node.next)
      : node.cases.every((c) => dead.has(c.next)) && (node.otherwise === undefined || dead.has(node.otherwise));
    if (isDead) dead.add(node);
  }
  for (const node of order) {
    if (dead.has(node) && node !== root) continue;
    asm.label(nodeLabel(node));
    if (dead.has(node)) asm.emit(0x05, 0, { ja: 'REJECT' });
    else if (node.kind === 'dispatch') emitDispatch(asm, live(node, dead), nodeLabel);
    else if (node.kind === 'l3') emitL3(asm, acceptAlternatives(node, link, policy));
    else {
      for (const i of node.code) asm.emit(i.code, i.k);
      asm.emit(0x02, node.slot); // st M[slot]
      asm.emit(0x05, 0, { ja: nodeLabel(node.next) });
    }
  }
  const length = asm.items.length;
  return {
    length,
    place: (accept, reject) => asm.resolve(new Map([['ACCEPT', accept], ['REJECT', reject]])),
  };
}

/** `node` without the cases (and `otherwise`) that lead only to rejection. */
function live(node: Dispatch, dead: ReadonlySet<LinkNode>): Dispatch {
  const { otherwise, ...rest } = node;
  const cases = node.cases.filter((c) => !dead.has(c.next));
  return otherwise === undefined || dead.has(otherwise) ? { ...rest, cases } : { ...rest, cases, otherwise };
}

const singleBit = (x: number): boolean => x !== 0 && (x & (x - 1)) === 0;

function emitDispatch(asm: Assembler, node: Dispatch, nodeLabel: (n: LinkNode) => Label): void {
  const miss: Label = node.otherwise === undefined ? 'REJECT' : nodeLabel(node.otherwise);
  if (singleBit(node.mask) && node.cases.every((c) => c.value === 0 || c.value === node.mask)) {
    // A one-bit field: one `jset` decides it, without masking.
    asm.load({ ...node, mask: FULL[node.size] ?? 0xffffffff }, undefined);
    const to = (v: number): Label => {
      const c = node.cases.find((x) => x.value === v);
      return c === undefined ? miss : nodeLabel(c.next);
    };
    const [set, clear] = [asm.fresh('set'), asm.fresh('clear')];
    asm.emit(0x45, node.mask, { jt: set, jf: clear });
    asm.label(set);
    asm.emit(0x05, 0, { ja: to(node.mask) });
    asm.label(clear);
    asm.emit(0x05, 0, { ja: to(0) });
    return;
  }
  asm.load(node, undefined);
  const tramps = node.cases.map(() => asm.fresh('case'));
  const rej = asm.fresh('rej');
  node.cases.forEach((c, i) => {
    const last = i === node.cases.length - 1;
    // On a mismatch, fall through to the next case's test (the very next instruction).
    const next = last ? rej : asm.fresh('next');
    asm.emit(0x15, c.value, { jt: tramps[i] ?? rej, jf: next });
    if (!last) asm.label(next);
  });
  node.cases.forEach((c, i) => {
    asm.label(tramps[i] ?? rej);
    asm.emit(0x05, 0, { ja: nodeLabel(c.next) });
  });
  asm.label(rej);
  asm.emit(0x05, 0, { ja: miss });
}

function emitL3(asm: Assembler, alts: Cond[][]): void {
  if (alts.length === 0) {
    asm.emit(0x05, 0, { ja: 'REJECT' }); // e.g. IPv6 when the jail has only IPv4 addresses and no multicast
    return;
  }
  if (alts.some((alt) => alt.length === 0)) {
    asm.emit(0x05, 0, { ja: 'ACCEPT' }); // a link-layer broadcast frame: any IP header will do
    return;
  }
  const acc = asm.fresh('acc');
  const rej = asm.fresh('rej');
  let held: string | undefined;
  alts.forEach((alt, ai) => {
    const nextAlt = ai === alts.length - 1 ? rej : asm.fresh('alt');
    alt.forEach((c, ci) => {
      held = asm.load(c, held);
      const lastCond = ci === alt.length - 1;
      const cont = lastCond ? acc : asm.fresh('c');
      asm.emit(0x15, c.value, { jt: cont, jf: nextAlt });
      if (!lastCond) asm.label(cont);
    });
    // A still holds this alternative's load only if it had one test.
    if (alt.length !== 1) held = undefined;
    if (nextAlt !== rej) asm.label(nextAlt);
  });
  asm.label(acc);
  asm.emit(0x05, 0, { ja: 'ACCEPT' });
  asm.label(rej);
  asm.emit(0x05, 0, { ja: 'REJECT' });
}
