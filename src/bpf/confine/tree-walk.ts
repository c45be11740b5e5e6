// The confinement test, evaluated on what the checker knows: walk the link
// layer's decision tree on the facts of a path. A dispatch is followed when
// the facts decide it, a compute node is evaluated symbolically (abstract.ts),
// and at an IP header the policy's alternatives must hold. The walk's
// progress past compute nodes is kept as a summary ("this packet's path
// reaches node N with these slot values", a fact about the packet), after
// which the facts the rest of the tree cannot look at are forgotten: the
// 802.11 radio and MAC prefixes would otherwise multiply the paths explored.
// Forgetting is sound (fewer facts never prove more) but costs precision: a
// program that re-tests a forgotten field may explore a path that cannot
// happen and be refused. The jail never does; the link trees read each field
// once on any path (link-layers-var.ts) so that it need not.
// Summaries move only past compute nodes, so fixed-offset link types (no
// compute nodes) keep every fact, as libpcap's re-testing programs need.
import { loadAt, step, symKey, UNKNOWN, type Regs, type Sym } from './abstract.js';
import { fieldBytes, fieldKey, keepOnly, known, type Facts, type Field } from './facts.js';
import type { Cond, L3, LinkLayer, LinkNode } from './link-layers.js';
import { acceptAlternatives, type ConfinePolicy } from './policy.js';
import { policyRoot } from './policy-tree.js';

export interface Summary {
  node: LinkNode;
  slots: readonly Sym[];
}

/** The field a condition reads, given the values of the slots on this path. */
function fieldOf(c: Omit<Cond, 'value'>, slots: readonly Sym[]): Field | undefined {
  const sym = loadAt(c.base === undefined ? undefined : (slots[c.base] ?? UNKNOWN), c.off, c.size);
  return sym.t === 'l' ? { ...sym, mask: (sym.mask & c.mask) >>> 0 } : undefined;
}

const successors = (node: LinkNode): LinkNode[] =>
  node.kind === 'l3' ? [] : node.kind === 'compute' ? [node.next] : [...node.cases.map((c) => c.next), ...(node.otherwise === undefined ? [] : [node.otherwise])];

/** M[slot] after a compute node, or undefined if it cannot be named. */
function compute(node: Extract<LinkNode, { kind: 'compute' }>, slots: readonly Sym[]): Sym[] | undefined {
  let r: Regs = { A: { t: 'c', v: 0 }, X: { t: 'c', v: 0 }, M: Array.from({ length: 16 }, (_, i) => slots[i] ?? UNKNOWN) };
  for (const ins of node.code) {
    const n = step(ins, r);
    if (n === undefined || n === 'reject') return undefined;
    r = n;
  }
  if (r.A.t === 'u') return undefined;
  const next = Array.from({ length: Math.max(slots.length, node.slot + 1) }, (_, i) => slots[i] ?? UNKNOWN);
  next[node.slot] = r.A;
  return next;
}

export class TreeWalker {
  private readonly ids = new Map<LinkNode, number>();
  private readonly alts = new Map<L3, Cond[][]>();
  private readonly refs = new Map<string, Map<string, number>>();
  private readonly others = new Map<string, Set<string>>();
  readonly root: Summary;

  constructor(
    private readonly link: LinkLayer,
    private readonly policy: ConfinePolicy,
  ) {
    const root = policyRoot(link, policy);
    const stack = [root];
    while (stack.length > 0) {
      const n = stack.pop();
      if (n === undefined || this.ids.has(n)) continue;
      this.ids.set(n, this.ids.size);
      stack.push(...successors(n));
    }
    this.root = { node: root, slots: [] };
  }

  summaryKey(at: Summary): string {
    return `${String(this.ids.get(at.node))}:${at.slots.map((s) => symKey(s) ?? 'u').join(',')}`;
  }

  private alternatives(l3: L3): Cond[][] {
    let a = this.alts.get(l3);
    if (a === undefined) this.alts.set(l3, (a = acceptAlternatives(l3, this.link, this.policy)));
    return a;
  }

  /**
   * Walk from `at` on `facts`: allowed, or how far the walk got past compute
   * nodes (with the facts pruned to what the tree after it can look at).
   */
  advance(facts: Facts, at: Summary): { allowed: true } | { allowed: false; at: Summary; facts: Facts } {
    let node = at.node;
    let slots = at.slots;
    let moved: Summary | undefined;
    for (;;) {
      if (node.kind === 'l3') {
        const l3 = node;
        const s = slots;
        if (this.alternatives(l3).some((alt) => alt.every((c) => { const f = fieldOf(c, s); return f !== undefined && known(facts, f, c.value) === true; }))) return { allowed: true };
        break;
      }
      if (node.kind === 'compute') {
        const next = compute(node, slots);
        if (next === undefined) break;
        slots = next;
        node = node.next;
        moved = { node, slots };
        continue;
      }
      const f = fieldOf(node, slots);
      if (f === undefined) break;
      let allFalse = true;
      let chosen: LinkNode | undefined;
      for (const c of node.cases) {
        const k = known(facts, f, c.value);
        if (k === true) {
          chosen = c.next;
          break;
        }
        if (k === undefined) allFalse = false;
      }
      if (chosen === undefined && allFalse) chosen = node.otherwise;
      if (chosen === undefined) break;
      node = chosen;
    }
    if (moved === undefined) return { allowed: false, at, facts };
    return { allowed: false, at: moved, facts: keepOnly(facts, this.referenced(moved)) };
  }

  /**
   * The fields (`fieldKey`) that an `otherwise` branch below `at` looks at:
   * ruling their values out is worth recording; elsewhere it would only split
   * states (each failed address word a different fact) to no use.
   */
  otherwiseFields(at: Summary): Set<string> {
    const key = this.summaryKey(at);
    const cached = this.others.get(key);
    if (cached !== undefined) return cached;
    const fields = new Set<string>();
    const seen = new Set<LinkNode>();
    const stack = [at.node];
    while (stack.length > 0) {
      const n = stack.pop();
      if (n === undefined || seen.has(n)) continue;
      seen.add(n);
      if (n.kind === 'dispatch' && n.otherwise !== undefined) {
        const f = fieldOf(n, at.slots);
        if (f !== undefined) fields.add(fieldKey(f));
      }
      stack.push(...successors(n));
    }
    this.others.set(key, fields);
    return fields;
  }

  /** The packet bits the tree below `at` can test (slots computed further down are not known yet: their facts go). */
  private referenced(at: Summary): Map<string, number> {
    const key = this.summaryKey(at);
    const cached = this.refs.get(key);
    if (cached !== undefined) return cached;
    const bytes = new Map<string, number>();
    const add = (c: Omit<Cond, 'value'>): void => {
      const f = fieldOf(c, at.slots);
      if (f === undefined) return;
      for (const [o, m] of fieldBytes(f, 0)) bytes.set(o, (bytes.get(o) ?? 0) | m);
    };
    const seen = new Set<LinkNode>();
    const stack = [at.node];
    while (stack.length > 0) {
      const n = stack.pop();
      if (n === undefined || seen.has(n)) continue;
      seen.add(n);
      if (n.kind === 'dispatch') add(n);
      if (n.kind === 'l3') for (const alt of this.alternatives(n)) alt.forEach(add);
      stack.push(...successors(n));
    }
    this.refs.set(key, bytes);
    return bytes;
  }
}
