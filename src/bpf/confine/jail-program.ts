// The jail program: the link layer's decision tree down to the IP header,
// then the policy's alternatives. Its accepting exits jump to a label ACCEPT
// and its rejecting exits to REJECT, both given by the caller, so the
// program can be spliced in front of another. Far jumps go through `ja`
// trampolines placed next to their node: conditional jumps reach 255 only.
import { EX_DATAERR, MoatError } from '../../core/index.js';
import type { Insn } from '../insn.js';
import type { Cond, Dispatch, L3, LinkLayer } from './link-layers.js';
import { acceptAlternatives, type ConfinePolicy } from './policy.js';

type Label = string;

interface Item {
  insn: Insn;
  jt?: Label;
  jf?: Label;
  ja?: Label;
}

const LD_ABS: Record<number, number> = { 4: 0x20, 2: 0x28, 1: 0x30 };
const FULL: Record<number, number> = { 4: 0xffffffff, 2: 0xffff, 1: 0xff };

class Assembler {
  readonly items: Item[] = [];
  readonly labels = new Map<Label, number>();
  private n = 0;

  fresh(prefix: string): Label {
    return `${prefix}${String(this.n++)}`;
  }

  label(name: Label): void {
    this.labels.set(name, this.items.length);
  }

  emit(code: number, k = 0, targets: Omit<Item, 'insn'> = {}): void {
    this.items.push({ insn: { code, jt: 0, jf: 0, k: k >>> 0 }, ...targets });
  }

  /** Load the field of `c` into A (masked); skipped when A already holds it. */
  load(c: Cond, held: string | undefined): string {
    const key = `${String(c.off)}/${String(c.size)}/${String(c.mask)}`;
    if (held === key) return key;
    this.emit(LD_ABS[c.size] ?? 0x20, c.off);
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
          throw new MoatError('MOAT_BPF_CONFINE_TOO_BIG', 'too many addresses for one confinement program: a jump would exceed 255 instructions', { exitCode: EX_DATAERR });
        }
        out[f] = d;
      }
      return out;
    });
  }
}

/**
 * Assemble the jail for `link` and `policy`. Returns a function placing it:
 * given the absolute positions of ACCEPT and REJECT, the instructions.
 */
export function jailProgram(link: LinkLayer, policy: ConfinePolicy): { length: number; place: (accept: number, reject: number) => Insn[] } {
  const asm = new Assembler();
  const labelOf = new Map<Dispatch | L3, Label>();
  const pending: (Dispatch | L3)[] = [];
  const nodeLabel = (node: Dispatch | L3): Label => {
    let l = labelOf.get(node);
    if (l === undefined) {
      l = asm.fresh('node');
      labelOf.set(node, l);
      pending.push(node);
    }
    return l;
  };
  nodeLabel(link.root);
  while (pending.length > 0) {
    const node = pending.shift();
    if (node === undefined) break;
    asm.label(nodeLabel(node));
    if (node.kind === 'dispatch') emitDispatch(asm, node, nodeLabel);
    else emitL3(asm, acceptAlternatives(node, link, policy));
  }
  const length = asm.items.length;
  return {
    length,
    place: (accept, reject) => asm.resolve(new Map([['ACCEPT', accept], ['REJECT', reject]])),
  };
}

function emitDispatch(asm: Assembler, node: Dispatch, nodeLabel: (n: Dispatch | L3) => Label): void {
  asm.load({ off: node.off, size: node.size, mask: node.mask, value: 0 }, undefined);
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
  asm.emit(0x05, 0, { ja: 'REJECT' });
}

function emitL3(asm: Assembler, alts: Cond[][]): void {
  if (alts.length === 0) {
    asm.emit(0x05, 0, { ja: 'REJECT' }); // e.g. IPv6 when the jail has only IPv4 addresses and no multicast
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
