// The decision tree a policy is judged on: the link layer's tree, where a
// link type whose broadcast test is a tree of its own (802.11: ToDS, then a
// six-byte address) has it placed once, at `broadcastAt`, instead of at every
// IP header. A broadcast frame goes on into a copy of the rest of the tree in
// which any IP header is let through; any other frame into the original,
// where only the policy's addresses (and IPv4 broadcast, multicast) count.
// Both mean "a link-layer broadcast frame that carries IP, or an IP packet
// the addresses allow" — the test reads only bytes before the IP header, so
// a frame long enough to be accepted holds them. The jail is some fifty
// instructions shorter, and the checker's paths do not multiply by the test.
import type { Cond, Dispatch, LinkLayer, LinkNode } from './link-layers.js';
import type { ConfinePolicy } from './policy.js';

/** A copy of `node`'s tree with each node passed through `map` (sharing kept: a DAG stays a DAG). */
function rebuild(node: LinkNode, map: (n: LinkNode, again: (n: LinkNode) => LinkNode) => LinkNode | undefined): LinkNode {
  const done = new Map<LinkNode, LinkNode>();
  const copy = (n: LinkNode): LinkNode => {
    const had = done.get(n);
    if (had !== undefined) return had;
    let out = map(n, copy);
    if (out === undefined) {
      if (n.kind === 'l3') out = n;
      else if (n.kind === 'compute') out = { ...n, next: copy(n.next) };
      else {
        const { otherwise, ...rest } = n;
        const cases = n.cases.map((c) => ({ value: c.value, next: copy(c.next) }));
        out = otherwise === undefined ? { ...rest, cases } : { ...rest, cases, otherwise: copy(otherwise) };
      }
    }
    done.set(n, out);
    return out;
  };
  return copy(node);
}

/** Conditions in turn: all hold → `yes`; the first that fails → `no`. */
export function conjunction(conds: readonly Cond[], yes: LinkNode, no: LinkNode): LinkNode {
  let node = yes;
  for (const c of [...conds].reverse()) {
    const { value, ...field } = c;
    const test: Dispatch = { kind: 'dispatch', ...field, cases: [{ value, next: node }], otherwise: no };
    node = test;
  }
  return node;
}

/** The root of the tree the jail is built from and the checker walks. */
export function policyRoot(link: LinkLayer, policy: ConfinePolicy): LinkNode {
  if (!policy.broadcast || link.broadcastTree === undefined) return link.root;
  const at = link.broadcastAt ?? link.root;
  const broadcastCopy = rebuild(at, (n) => (n.kind === 'l3' ? { ...n, accept: true } : undefined));
  const test = link.broadcastTree(broadcastCopy, at);
  return at === link.root ? test : rebuild(link.root, (n) => (n === at ? test : undefined));
}
