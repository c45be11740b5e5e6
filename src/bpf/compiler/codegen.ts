// AST → block graph, visiting nodes in the order yacc runs libpcap's actions
// (post-order, left to right), which fixes register numbers and the layout.
// Then finish_parse: the pflog prologue, `ret snaplen` on the true exits and
// `ret 0` on the false ones.
import type { Node } from './ast.js';
import { Block, backpatch, genAnd, genNot, genOr, setStoreFree, startGraph } from './block.js';
import { genPpiDltCheck } from './gen-80211-prologue.js';
import { GenError, syntaxError } from './errors.js';
import { Gen, type GenOptions } from './gen.js';
import { genRelation } from './gen-arith.js';
import { genId } from './gen-id.js';
import { genProtoAbbrev } from './gen-link.js';
import { genOther } from './gen-other.js';
import { UnsupportedLinktypeError, isSupportedLinktype } from './linktypes.js';

export interface Generated {
  root: Block;
  noOptimize: boolean;
}

export function generate(src: string, node: Node | null, opts: GenOptions): Generated {
  // A graph of its own: its blocks are numbered from 0 (the optimizer's tables are indexed so).
  startGraph();
  let g: Gen;
  try {
    g = new Gen(opts);
  } catch (e) {
    if (e instanceof GenError) throw syntaxError(e.message, src, 0, Math.max(1, src.length));
    throw e;
  }
  if (node === null) {
    if (!isSupportedLinktype(opts.linktype)) throw new UnsupportedLinktypeError(opts.linktype);
    return { root: g.retBlock(opts.snaplen), noOptimize: false };
  }
  const walk = (n: Node): Block => {
    switch (n.t) {
      case 'and':
      case 'or': {
        // and/or associate to the left: walk the left spine iteratively so a
        // long generated list (`host a or host b or ...`) needs no deep stack.
        const spine: Extract<Node, { t: 'and' | 'or' }>[] = [];
        let m: Node = n;
        while (m.t === 'and' || m.t === 'or') {
          spine.push(m);
          m = m.l;
        }
        let acc = walk(m);
        for (let i = spine.length - 1; i >= 0; i--) {
          const op = spine[i];
          if (op === undefined) continue;
          const r = walk(op.r);
          if (op.t === 'and') genAnd(acc, r);
          else genOr(acc, r);
          acc = r;
        }
        return acc;
      }
      case 'not': {
        const b = walk(n.e);
        genNot(b);
        return b;
      }
      default:
        {
          const c = n.t === 'id' ? (n.clause ?? n.span) : n.span;
          g.clause = { start: c.start, end: c.end, text: src.slice(c.start, c.end) };
        }
        try {
          switch (n.t) {
            case 'id':
              return genId(g, n);
            case 'pname':
              return genProtoAbbrev(g, n.proto);
            case 'rel':
              return genRelation(g, n.op, n.l, n.r, n.reversed);
            case 'other':
              return genOther(g, n);
          }
        } catch (e) {
          if (e instanceof GenError) {
            // On a link type we cannot compile for, only link-independent
            // errors (qualifiers, values) are libpcap's; one that libpcap
            // would not raise on this link type becomes our refusal of it.
            const dlt = opts.linktype;
            if (!isSupportedLinktype(dlt) && (e.linktypes === 'any' || e.linktypes?.includes(dlt) === true)) {
              throw new UnsupportedLinktypeError(dlt);
            }
            throw syntaxError(e.message, src, n.span.start, Math.max(1, n.span.end - n.span.start));
          }
          throw e;
        } finally {
          g.clause = undefined;
        }
    }
  };
  const p = walk(node);
  // An unsupported link type got this far only to report the expression's
  // own errors first, as libpcap would; it is never compiled.
  if (!isSupportedLinktype(opts.linktype)) throw new UnsupportedLinktypeError(opts.linktype);
  p.head.stmts = g.prologue(p.head.stmts);
  // finish_parse: on PPI, only 802.11 payloads are understood; the check
  // goes in front of everything, the prologue included.
  const ppi = genPpiDltCheck(g);
  if (ppi !== null) genAnd(ppi, p);
  backpatch(p, g.retBlock(opts.snaplen));
  p.sense = !p.sense;
  backpatch(p, g.retBlock(0));
  // Most graphs store no scratch word: the optimizer then skips its scan for stores.
  setStoreFree(g.stores ? null : p.head);
  return { root: p.head, noOptimize: g.noOptimize };
}
