/**
 * The token cursor under ifstated's parser: one token of lookahead and more
 * on demand, the count of open braces, and yacc's rule that a syntax error
 * within three tokens of the last one is not reported again.
 */
import type { ErrorCode } from '../core/index.js';
import type { Lexer, Token, TokenType } from './lexer.js';

export interface Diagnostic {
  message: string;
  offset: number;
  length: number;
  severity: 'error' | 'warning';
  code: ErrorCode;
  /** A suggestion, such as "did you mean `allworking`". */
  hint?: string;
}

/** Thrown to unwind to the statement loop, which recovers as yacc does. */
export class Abort extends Error {}

export abstract class TokenCursor {
  protected tok: Token;
  protected readonly ahead: Token[] = [];
  protected readonly diagnostics: Diagnostic[] = [];
  protected shiftedSinceError = 3;
  /** '{' tokens not yet closed by a '}'. */
  protected openBraces = 0;

  constructor(protected readonly lexer: Lexer) {
    this.tok = this.read();
  }

  protected read(): Token {
    const t = this.ahead.shift() ?? this.lexer.next();
    return t;
  }

  protected peek(n = 1): Token {
    while (this.ahead.length < n) this.ahead.push(this.lexer.next());
    const t = this.ahead[n - 1];
    if (t === undefined) throw new Error('peek past buffer');
    return t;
  }

  protected advance(): Token {
    const t = this.tok;
    // Counted on tokens, not in the grammar, so it survives error recovery.
    if (t.type === '{') this.openBraces++;
    else if (t.type === '}' && this.openBraces > 0) this.openBraces--;
    this.tok = this.read();
    this.shiftedSinceError++;
    return t;
  }

  protected is(type: TokenType): boolean {
    return this.tok.type === type;
  }

  protected expect(type: TokenType): Token {
    if (!this.is(type)) this.syntaxError();
    return this.advance();
  }

  protected syntaxError(message = 'syntax error', at: Token = this.tok): never {
    // The lexer has already said what is wrong with an ERROR token.
    if (at.type === 'ERROR') {
      this.flushLexErrors();
      throw new Abort();
    }
    // OpenBSD's yacc says only "syntax error"; at the end of the file the
    // usual cause is an unclosed block, so say that much more.
    if (at.type === 'EOF' && message === 'syntax error' && this.openBraces > 0) message = "syntax error: unexpected end of file, a '}' is missing";
    this.report(message, at.offset, at.length, 'MOAT_IFSTATED_SYNTAX');
    throw new Abort();
  }

  protected report(message: string, offset: number, length: number, code: ErrorCode, hint?: string): void {
    if (code === 'MOAT_IFSTATED_SYNTAX' && this.shiftedSinceError < 3) return;
    this.shiftedSinceError = 0;
    const d: Diagnostic = { message, offset, length, severity: 'error', code };
    if (hint !== undefined) d.hint = hint;
    this.diagnostics.push(d);
  }

  protected flushLexErrors(): void {
    for (const e of this.lexer.errors.splice(0)) {
      this.diagnostics.push({ message: e.message, offset: e.offset, length: e.length, severity: 'error', code: 'MOAT_IFSTATED_LEX' });
      this.shiftedSinceError = 0;
    }
  }
}
