// A recursive-descent parser for libpcap's grammar (grammar.y). `and` and
// `or` have equal precedence and associate to the left; `not` binds tighter.
// Where yacc decides with its LALR tables (is `(b or c)` after `and` an
// implied-qualifier id list or a parenthesised expression?), we try the id
// reading first and fall back, which is what the tables amount to.
import type { Addr, Arth, Dir, Node, Proto, Qual } from './ast.js';
import { QERR } from './ast.js';
import { syntaxError } from './errors.js';
import { AQUALS, ARITH, DQUALS, PNAMES, RELOPS, UMINUS } from './grammar-tables.js';
import type { Token } from './lexer.js';
import { parseOther } from './parser-other.js';
import { BACKTRACK, Backtrack, TokenStream } from './token-stream.js';

/** A semantic error found while parsing: never a reason to backtrack. */
class QualError extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

/** Keywords that start a head id besides the qualifiers (a set made once: asked for every term). */
const HEAD_KEYWORDS: ReadonlySet<string> = new Set(['PROTO', 'PROTOCHAIN', 'GATEWAY']);

export interface Parsed {
  node: Node | null;
}

export function parseFilter(src: string): Parsed {
  return new Parser(src).parseProg();
}

class Parser extends TokenStream {
  parseProg(): Parsed {
    try {
      return this.parseProgInner();
    } catch (e) {
      if (e instanceof QualError) throw e.error;
      throw e;
    }
  }

  private parseProgInner(): Parsed {
    if (this.peek().kind === 'EOF') return { node: null };
    const { node } = this.parseExpr(QERR);
    if (this.peek().kind !== 'EOF') this.error();
    return { node };
  }

  /** Run `fn`; on a syntax error, rewind and return null. */
  private attempt<T>(fn: () => T): T | null {
    const save = this.pos;
    this.speculative++;
    try {
      return fn();
    } catch (e) {
      if (e instanceof SyntaxError || e instanceof Backtrack) {
        this.pos = save;
        return null;
      }
      throw e;
    } finally {
      this.speculative--;
    }
  }

  private parseExpr(q0: Qual): { node: Node; q: Qual } {
    const start = this.peek().start;
    let { node, q } = this.parseTerm(q0);
    while (this.is('AND') || this.is('OR')) {
      const op = this.next().text === 'AND' ? 'and' : 'or';
      const rhs = this.parseTermOrId(q);
      node = { t: op, l: node, r: rhs.node, span: this.span(start) };
      q = rhs.q;
    }
    return { node, q };
  }

  /** After `and`/`or`: an id (inheriting `q`) or a new term. */
  private parseTermOrId(q: Qual): { node: Node; q: Qual } {
    const t = this.peek();
    if (t.kind === 'ID' || t.kind === 'HID' || t.kind === 'HID6' || t.kind === 'EID' || t.kind === 'AID') return this.parseId(q);
    if (t.kind === 'NUM') {
      const after = this.peek(1);
      const arith = (after.kind === 'OP' && (ARITH[after.text] !== undefined || RELOPS[after.text] !== undefined));
      return arith ? this.parseTerm(q) : this.parseId(q);
    }
    if (this.is('!')) {
      const start = this.next().start;
      const inner = this.parseTermOrId(q);
      return { node: { t: 'not', e: inner.node, span: this.span(start) }, q: inner.q };
    }
    if (this.is('(') && this.idMayStart()) {
      const asId = this.attempt(() => {
        const r = this.parseId(q);
        const after = this.peek();
        if (after.kind === 'OP' && (ARITH[after.text] !== undefined || RELOPS[after.text] !== undefined)) throw BACKTRACK;
        return r;
      });
      if (asId !== null) return asId;
    }
    return this.parseTerm(q);
  }

  private parseTerm(q: Qual): { node: Node; q: Qual } {
    this.enter();
    try {
      return this.parseTermInner(q);
    } finally {
      this.depth--;
    }
  }

  private parseTermInner(q: Qual): { node: Node; q: Qual } {
    const t = this.peek();
    if (this.is('!')) {
      this.next();
      const inner = this.parseTerm(q);
      return { node: { t: 'not', e: inner.node, span: this.span(t.start) }, q: inner.q };
    }
    if (this.is('(')) {
      const asExpr = this.attempt(() => {
        this.next();
        const e = this.parseExpr(q);
        this.expect(')');
        const after = this.peek();
        if (after.kind === 'OP' && (ARITH[after.text] !== undefined || RELOPS[after.text] !== undefined)) throw BACKTRACK;
        return e.node;
      });
      if (asExpr !== null) return { node: asExpr, q };
      return { node: this.parseRelation(), q: QERR };
    }
    if (t.kind === 'NUM' || this.is('-') || this.is('LEN')) return { node: this.parseRelation(), q: QERR };
    if (t.kind !== 'KW') this.error();
    const proto = PNAMES[t.text];
    if (proto !== undefined) {
      const n = this.peek(1);
      if (this.is('[', 1)) return { node: this.parseRelation(), q: QERR };
      if (n.kind === 'KW' && (DQUALS[n.text] !== undefined || AQUALS[n.text] !== undefined || HEAD_KEYWORDS.has(n.text))) {
        this.next();
        return this.parseHeadId(proto, t.start);
      }
      if (n.kind === 'KW' && (n.text === 'TK_BROADCAST' || n.text === 'TK_MULTICAST' || n.text === 'TYPE' || n.text === 'SUBTYPE' || n.text === 'DIR')) {
        this.next();
        return { node: parseOther(this, proto, t.start), q: QERR };
      }
      this.next();
      return { node: { t: 'pname', proto, span: this.span(t.start) }, q: QERR };
    }
    if (DQUALS[t.text] !== undefined || AQUALS[t.text] !== undefined || HEAD_KEYWORDS.has(t.text)) {
      return this.parseHeadId('default', t.start);
    }
    return { node: parseOther(this, 'default', t.start), q: QERR };
  }

  /** head id: the protocol qualifier (if any) has been consumed. */
  private parseHeadId(proto: Proto, start: number): { node: Node; q: Qual } {
    let dir: Dir = 'default';
    let addr: Addr = 'default';
    const t = this.peek();
    const d = DQUALS[t.text];
    if (t.kind === 'KW' && d !== undefined) {
      this.next();
      dir = d;
      if ((d === 'src' || d === 'dst') && (this.is('OR') || this.is('AND')) && this.is(d === 'src' ? 'DST' : 'SRC', 1)) {
        dir = this.next().text === 'OR' ? 'or' : 'and';
        this.next();
      }
      const a = AQUALS[this.peek().text];
      if (this.peek().kind === 'KW' && a !== undefined) {
        this.next();
        addr = a;
      }
    } else if (t.kind === 'KW' && AQUALS[t.text] !== undefined) {
      this.next();
      addr = AQUALS[t.text] ?? 'default';
    } else if (this.is('PROTO')) {
      this.next();
      addr = 'proto';
    } else if (this.is('PROTOCHAIN')) {
      this.next();
      addr = 'protochain';
    } else if (this.is('GATEWAY')) {
      this.next();
      addr = 'gateway';
    } else {
      this.error();
    }
    const r = this.parseId({ proto, dir, addr });
    // The clause (for --explain and error carets) includes its qualifiers.
    if (r.node.t === 'id') r.node.clause = { start, end: r.node.span.end };
    else r.node.span = { start, end: r.node.span.end };
    return r;
  }

  /**
   * Can an id start here? Past any `(` and `not`, one must begin with a
   * number or an address-like token; a keyword or an operator there fails
   * parseId() for sure. Checked before trying that reading: the failed try
   * unwinds by an exception, which costs more than the rest of the parse.
   */
  private idMayStart(): boolean {
    let ahead = 0;
    while (this.is('(', ahead) || this.is('!', ahead)) ahead++;
    const kind = this.peek(ahead).kind;
    return kind !== 'KW' && kind !== 'OP' && kind !== 'EOF';
  }

  /** id: nid | pnum | '(' pid ')' */
  private parseId(q: Qual): { node: Node; q: Qual } {
    this.enter();
    try {
      return this.parseIdInner(q);
    } finally {
      this.depth--;
    }
  }

  private parseIdInner(q: Qual): { node: Node; q: Qual } {
    const t = this.peek();
    if (this.is('(')) {
      this.next();
      if (this.peek().kind === 'NUM' && this.is(')', 1)) {
        const n = this.next();
        this.next();
        return { node: this.idNode('num', n, q, t.start), q };
      }
      if (this.is('(')) {
        // `((80))`: a parenthesised pnum.
        const r = this.parseId(q);
        this.expect(')');
        return r;
      }
      const r = this.parsePid(q);
      this.expect(')');
      return r;
    }
    if (t.kind === 'NUM') {
      this.next();
      return { node: this.idNode('num', t, q, t.start), q };
    }
    return this.parseNid(q);
  }

  private parsePid(q: Qual): { node: Node; q: Qual } {
    const start = this.peek().start;
    let r: { node: Node; q: Qual };
    if (this.peek().kind === 'NUM' && (this.is('AND', 1) || this.is('OR', 1))) {
      const n = this.next();
      r = { node: this.idNode('num', n, q, n.start), q };
    } else {
      r = this.parseNid(q);
    }
    while (this.is('AND') || this.is('OR')) {
      const op = this.next().text === 'AND' ? 'and' : 'or';
      const rhs = this.parseId(r.q);
      r = { node: { t: op, l: r.node, r: rhs.node, span: this.span(start) }, q: rhs.q };
    }
    return r;
  }

  /** grammar.y's checks on HID/HID6 under port, portrange, proto, protochain. */
  private checkAddrQual(q: Qual, t: Token, what: string): void {
    if (q.addr === 'port' || q.addr === 'portrange' || q.addr === 'proto' || q.addr === 'protochain') {
      throw new QualError(syntaxError(`'${q.addr}' qualifier applied to ${what}`, this.src, t.start, Math.max(1, this.peek().start - t.start)));
    }
  }

  private parseNid(q: Qual): { node: Node; q: Qual } {
    const t = this.peek();
    switch (t.kind) {
      case 'ID':
        this.next();
        return { node: this.idNode('name', t, q, t.start), q };
      case 'HID':
        this.next();
        if (this.is('/') && this.peek(1).kind === 'NUM') {
          this.next();
          const n = this.next();
          this.checkAddrQual(q, t, 'IPv4 address and prefix length');
          return { node: this.idNode('hidlen', t, q, t.start, '', n.value), q };
        }
        if (this.is('NETMASK') && this.peek(1).kind === 'HID') {
          this.next();
          const m = this.next();
          this.checkAddrQual(q, t, 'IPv4 address and netmask');
          return { node: this.idNode('hidmask', t, q, t.start, m.text), q };
        }
        this.checkAddrQual(q, t, 'IPv4 address');
        return { node: this.idNode('hid', t, q, t.start), q };
      case 'HID6':
        this.next();
        if (this.is('/') && this.peek(1).kind === 'NUM') {
          this.next();
          const n = this.next();
          this.checkAddrQual(q, t, 'IPv6 address and prefix length');
          return { node: this.idNode('hid6len', t, q, t.start, '', n.value), q };
        }
        this.checkAddrQual(q, t, 'IPv6 address');
        return { node: this.idNode('hid6', t, q, t.start), q };
      case 'EID':
        this.next();
        return { node: this.idNode('eid', t, q, t.start), q };
      case 'AID':
        this.next();
        return { node: this.idNode('aid', t, q, t.start), q };
      default:
        if (this.is('!')) {
          this.next();
          const inner = this.parseId(q);
          return { node: { t: 'not', e: inner.node, span: this.span(t.start) }, q: inner.q };
        }
        return this.error();
    }
  }

  private idNode(kind: 'name' | 'num' | 'hid' | 'hidlen' | 'hidmask' | 'hid6' | 'hid6len' | 'eid' | 'aid', t: Token, q: Qual, start: number, text2 = '', num?: number): Node {
    return { t: 'id', kind, text: t.text, text2, num: num ?? t.value, q, span: this.span(start) };
  }

  private parseRelation(): Node {
    const start = this.peek().start;
    const l = this.parseArth(0);
    const r0 = this.peek();
    const rel = r0.kind === 'OP' ? RELOPS[r0.text] : undefined;
    if (rel === undefined) this.error();
    this.next();
    const r = this.parseArth(0);
    return { t: 'rel', op: rel.op, reversed: rel.reversed, l, r, span: this.span(start) };
  }

  private parseArth(minPrec: number): Arth {
    const start = this.peek().start;
    let left = this.parseArthPrimary();
    for (;;) {
      const t = this.peek();
      const op = t.kind === 'OP' ? ARITH[t.text] : undefined;
      if (op === undefined || op.prec < minPrec) break;
      this.next();
      const right = this.parseArth(op.prec === Infinity ? 0 : op.prec + 1);
      left = { t: 'bin', op: op.op, l: left, r: right, span: this.span(start) };
    }
    return left;
  }

  private parseArthPrimary(): Arth {
    this.enter();
    try {
      return this.parseArthPrimaryInner();
    } finally {
      this.depth--;
    }
  }

  private parseArthPrimaryInner(): Arth {
    const t = this.peek();
    if (t.kind === 'NUM') {
      this.next();
      return { t: 'num', v: t.value, span: this.span(t.start) };
    }
    if (this.is('LEN')) {
      this.next();
      return { t: 'len', span: this.span(t.start) };
    }
    if (this.is('-')) {
      this.next();
      const e = this.parseArth(UMINUS);
      return { t: 'neg', e, span: this.span(t.start) };
    }
    if (this.is('(')) {
      this.next();
      const e = this.parseArth(0);
      this.expect(')');
      return e;
    }
    const proto = t.kind === 'KW' ? PNAMES[t.text] : undefined;
    if (proto !== undefined && this.is('[', 1)) {
      this.next();
      this.next();
      const index = this.parseArth(0);
      let size = 1;
      if (this.is(':')) {
        this.next();
        const n = this.peek();
        if (n.kind !== 'NUM') this.error();
        this.next();
        size = n.value;
      }
      this.expect(']');
      return { t: 'load', proto, index, size, span: this.span(t.start) };
    }
    return this.error();
  }

}
