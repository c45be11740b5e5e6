// The token cursor the parsers share: look-ahead, consumption, and the
// yacc-style syntax error at the current token.
import type { Span } from './ast.js';
import { syntaxError } from './errors.js';
import { tokenize, type Token } from './lexer.js';

/**
 * Thrown instead of a syntax error while the parser only tries a reading
 * (Parser.attempt), which rewinds on any syntax error and never shows it:
 * one instance, made once, as building a SourceSyntaxError (its position and
 * stack) for each discarded reading cost more than the rest of the parse.
 */
export class Backtrack extends Error {}
export const BACKTRACK = new Backtrack('backtrack');

export class TokenStream {
  protected pos = 0;
  /** How many readings are being tried (Parser.attempt): their syntax errors are BACKTRACK. */
  protected speculative = 0;
  /** Parenthesis/`not`/unary-minus nesting; bounded like libpcap's parser stack. */
  protected depth = 0;
  static readonly MAX_DEPTH = 500;

  /** Enter one level of nesting, refusing absurd depths with a clear error. */
  protected enter(): void {
    if (++this.depth > TokenStream.MAX_DEPTH) {
      const t = this.peek();
      throw syntaxError('expression too complex (nested too deeply)', this.src, t.start, 1);
    }
  }
  protected readonly toks: Token[];

  constructor(protected readonly src: string) {
    this.toks = tokenize(src);
  }

  peek(ahead = 0): Token {
    const t = this.toks[Math.min(this.pos + ahead, this.toks.length - 1)];
    if (t === undefined) throw new Error('unreachable: no EOF token');
    return t;
  }

  is(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return (t.kind === 'KW' || t.kind === 'OP') && t.text === text;
  }

  next(): Token {
    const t = this.peek();
    if (t.kind !== 'EOF') this.pos++;
    return t;
  }

  error(at?: Token): never {
    if (this.speculative > 0) throw BACKTRACK;
    const t = at ?? this.peek();
    throw syntaxError("can't parse filter expression: syntax error", this.src, t.start, Math.max(1, t.end - t.start));
  }

  expect(text: string): Token {
    if (!this.is(text)) this.error();
    return this.next();
  }

  span(start: number): Span {
    const prev = this.toks[this.pos - 1];
    return { start, end: prev === undefined ? start : Math.max(start, prev.end) };
  }


  /** pnum: NUM or a parenthesised pnum. */
  pnum(): number | null {
    if (this.peek().kind === 'NUM') return this.next().value;
    if (this.is('(')) {
      let depth = 0;
      while (this.is('(', depth)) depth++;
      if (this.peek(depth).kind === 'NUM') {
        let ok = true;
        for (let i = 1; i <= depth; i++) if (!this.is(')', depth + i)) ok = false;
        if (ok) {
          for (let i = 0; i < depth; i++) this.next();
          const v = this.next().value;
          for (let i = 0; i < depth; i++) this.next();
          return v;
        }
      }
    }
    return null;
  }
}
