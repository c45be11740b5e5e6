/**
 * The ifstated.conf lexer, hand-written after the rules of OpenBSD's
 * usr.sbin/ifstated/parse.y 1.56 (yylex/lgetc), which define the language:
 *  - blanks separate tokens; `#` starts a comment to the end of the line;
 *  - a backslash before a newline joins lines, outside and inside quotes;
 *  - `$name` outside quotes is replaced by the macro's text, which is lexed
 *    again (so a macro may hold quotes and operators), but not re-expanded;
 *  - '...' and "..." are strings; inside them only \<quote> and \<newline>
 *    are escapes, other backslashes are kept;
 *  - a word runs over letters, digits and punctuation except ( ) { } ! = # , .
 *    so `em0.link.up` is three words and two dots, and `set-state` one word;
 *  - a run of digits (optionally after `-`) ending where a number may end is a
 *    NUMBER; `&&` and `||` are words that happen to be keywords.
 */

export type TokenType =
  | 'STRING'
  | 'NUMBER'
  | 'NL'
  | 'EOF'
  | 'ERROR'
  | 'STATE'
  | 'INITSTATE'
  | 'LINK'
  | 'UP'
  | 'DOWN'
  | 'UNKNOWN'
  | 'ADDED'
  | 'REMOVED'
  | 'IF'
  | 'RUN'
  | 'SETSTATE'
  | 'EVERY'
  | 'INIT'
  | 'AND'
  | 'OR'
  | '{'
  | '}'
  | '('
  | ')'
  | '!'
  | '='
  | '.'
  | 'OTHER';

export interface Token {
  type: TokenType;
  /** The text: a string's contents, a number's digits, a keyword or a character. */
  value: string;
  /** Where it starts in the file (for tokens from a macro: where the `$name` is). */
  offset: number;
  length: number;
  quoted: boolean;
  /** Name of the macro this token came from, if any. */
  macro?: string;
  /** True for the first token of a macro's expansion. */
  macroStart?: boolean;
  /** `$name`s written inside this quoted string, which parse.y leaves as they are. */
  dollars?: DollarRef[];
}

/** A `$name` inside quotes, where it is not a macro: the shell sees it. */
export interface DollarRef {
  name: string;
  offset: number;
  length: number;
}

// parse.y's sorted keyword table; quoted strings are never keywords.
const KEYWORDS: Readonly<Record<string, TokenType>> = {
  '&&': 'AND',
  added: 'ADDED',
  down: 'DOWN',
  every: 'EVERY',
  if: 'IF',
  init: 'INIT',
  'init-state': 'INITSTATE',
  link: 'LINK',
  removed: 'REMOVED',
  run: 'RUN',
  'set-state': 'SETSTATE',
  state: 'STATE',
  unknown: 'UNKNOWN',
  up: 'UP',
  '||': 'OR',
};

/** parse.y's buffer is 8096 bytes; a longer word or string is an error. */
export const MAX_TOKEN = 8096;
/** Bound on macro expansions per file, so `a = "$a"`-style games cannot loop. */
const MAX_EXPANSIONS = 100_000;

export interface LexError {
  message: string;
  offset: number;
  length: number;
}

export interface MacroTable {
  /** The macro's text, marking it used; undefined when not defined. */
  get(name: string): string | undefined;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlnum = (c: string): boolean => isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
// C's ispunct(3) in the C locale: printable, not alphanumeric, not space.
const isPunct = (c: string): boolean => {
  const n = c.charCodeAt(0);
  return c.length === 1 && n > 32 && n < 127 && !isAlnum(c);
};
const inWord = (c: string): boolean => isAlnum(c) || (isPunct(c) && !'(){}!=#,.'.includes(c));
const endsNumber = (c: string): boolean => c === '' || /\s/.test(c) || ')/,}='.includes(c);

interface Char {
  c: string;
  offset: number;
  /** Set for characters of a macro's expansion: its name and the `$name` length. */
  macro?: string;
  macroLength?: number;
}

export class Lexer {
  private pos = 0;
  // Characters to read before the file's next ones, last first: pushed-back
  // characters and macro expansions alike (lungetc() in parse.y).
  private readonly pushback: Char[] = [];
  private expansions = 0;
  private lastType: TokenType = 'NL';
  private firstOfMacro = false;
  readonly errors: LexError[] = [];

  constructor(
    private readonly source: string,
    private readonly macros: MacroTable,
    /** Accept a missing final newline (moat's default); `--strict` turns this off. */
    private readonly finalNewlineOptional: boolean,
  ) {}

  /** One character, after continuation; '' at the end. `offset` is where it came from. */
  private getc(quoted: boolean): Char {
    const back = this.pushback.pop();
    if (back !== undefined) return back;
    for (;;) {
      const offset = this.pos;
      if (this.pos >= this.source.length) return { c: '', offset };
      const c = this.source.charAt(this.pos++);
      if (c === '\\' && !quoted) {
        const next = this.source.charAt(this.pos);
        if (next === '\n') {
          this.pos++;
          continue;
        }
        // lgetc(): outside quotes a backslash escapes (and is dropped for) any other character.
        if (next !== '') {
          this.pos++;
          return { c: next, offset: offset + 1 };
        }
      }
      return { c, offset };
    }
  }

  private ungetc(ch: Char): void {
    if (ch.c !== '') this.pushback.push(ch);
  }

  private error(message: string, offset: number, length = 1): Token {
    this.errors.push({ message, offset, length });
    // findeol(): skip the rest of the line, which the parser treats as its end.
    this.pushback.length = 0;
    while (this.pos < this.source.length) {
      const c = this.getc(false);
      if (c.c === '\n' || c.c === '') break;
    }
    this.lastType = 'NL';
    return { type: 'ERROR', value: '', offset, length, quoted: false };
  }

  next(): Token {
    const t = this.lex();
    this.lastType = t.type;
    return t;
  }

  private lex(): Token {
    for (;;) {
      let ch = this.getc(false);
      // A CR (from a CRLF file) is a blank too, except under --strict where, as in
      // OpenBSD, it is a stray character and so a syntax error.
      while (ch.c === ' ' || ch.c === '\t' || (ch.c === '\r' && this.finalNewlineOptional)) ch = this.getc(false);
      if (ch.c === '#') {
        while (ch.c !== '\n' && ch.c !== '') ch = this.getc(false);
      }
      const macroStart = this.firstOfMacro;
      this.firstOfMacro = false;
      if (ch.c === '$' && ch.macro === undefined) {
        const start = ch.offset;
        let name = '';
        for (;;) {
          const n = this.getc(false);
          if (isAlnum(n.c) || n.c === '_') {
            name += n.c;
            if (name.length > MAX_TOKEN) return this.error('string too long', start);
            continue;
          }
          this.ungetc(n);
          break;
        }
        const value = this.macros.get(name);
        if (value === undefined) return this.error(`macro '${name}' not defined`, start, name.length + 1);
        if (++this.expansions > MAX_EXPANSIONS) return this.error('too many macro expansions', start, name.length + 1);
        for (let i = value.length - 1; i >= 0; i--) this.pushback.push({ c: value.charAt(i), offset: start, macro: name, macroLength: name.length + 1 });
        this.firstOfMacro = true;
        continue;
      }
      const tok = this.token(ch);
      if (tok === undefined) continue;
      if (ch.macro !== undefined) {
        tok.macro = ch.macro;
        if (macroStart) tok.macroStart = true;
        tok.length = ch.macroLength ?? tok.length;
      }
      return tok;
    }
  }

  private token(ch: Char): Token | undefined {
    const { c, offset } = ch;
    if (c === '') {
      if (this.finalNewlineOptional && this.lastType !== 'NL' && this.lastType !== 'EOF' && this.lastType !== 'ERROR') {
        return { type: 'NL', value: '\n', offset, length: 1, quoted: false };
      }
      return { type: 'EOF', value: '', offset, length: 1, quoted: false };
    }
    if (c === '\n') return { type: 'NL', value: '\n', offset, length: 1, quoted: false };
    if (c === '"' || c === "'") return this.quoted(c, offset);
    if (c === '-' || isDigit(c)) {
      const n = this.number(ch);
      if (n !== undefined) return n;
      if (c === '-') return { type: 'OTHER', value: '-', offset, length: 1, quoted: false };
    }
    if (isAlnum(c) || c === ':' || c === '_' || c === '&' || c === '|') {
      let text = c;
      for (;;) {
        const n = this.getc(false);
        if (n.c !== '' && inWord(n.c) && n.macro === ch.macro) {
          text += n.c;
          if (text.length >= MAX_TOKEN) return this.error('string too long', offset);
          continue;
        }
        this.ungetc(n);
        break;
      }
      const kw = KEYWORDS[text];
      return { type: kw ?? 'STRING', value: text, offset, length: ch.macro === undefined ? text.length : 1, quoted: false };
    }
    if ('{}()!=.'.includes(c)) return { type: c as TokenType, value: c, offset, length: 1, quoted: false };
    return { type: 'OTHER', value: c, offset, length: 1, quoted: false };
  }

  private number(first: Char): Token | undefined {
    const read: Char[] = [first];
    let text = first.c;
    let n = this.getc(false);
    while (isDigit(n.c) && n.macro === first.macro) {
      read.push(n);
      text += n.c;
      if (text.length >= MAX_TOKEN) return this.error('string too long', first.offset);
      n = this.getc(false);
    }
    this.ungetc(n);
    if (text !== '-' && endsNumber(n.macro === first.macro ? n.c : ' ')) {
      const value = BigInt(text);
      if (value > 9223372036854775807n || value < -9223372036854775808n) {
        return this.error(`"${text}" invalid number: ${value > 0n ? 'too large' : 'too small'}`, first.offset, text.length);
      }
      return { type: 'NUMBER', value: text, offset: first.offset, length: first.macro === undefined ? text.length : 1, quoted: false };
    }
    // Not a number after all: give back all but the first character.
    for (let i = read.length - 1; i >= 1; i--) {
      const r = read[i];
      if (r !== undefined) this.ungetc(r);
    }
    return undefined;
  }

  private quoted(quote: string, offset: number): Token {
    let text = '';
    // parse.y's lexer does not expand `$name` inside quotes; remember where
    // each one is so that `check` can point at one that names a macro.
    const dollars: DollarRef[] = [];
    let open: DollarRef | undefined;
    let escaped = false; // `\$x` reaches the shell as a literal `$x`
    for (;;) {
      const ch = this.getc(true);
      const afterBackslash = escaped;
      escaped = false;
      if (open !== undefined && ch.macro === undefined && (isAlnum(ch.c) || ch.c === '_') && ch.offset === open.offset + open.length) {
        open.name += ch.c;
        open.length++;
      } else {
        if (open !== undefined && open.name !== '') dollars.push(open);
        open = ch.c === '$' && ch.macro === undefined && !afterBackslash ? { name: '', offset: ch.offset, length: 1 } : undefined;
      }
      if (ch.c === '') return this.error('reached end of file while parsing quoted string', offset);
      if (ch.c === '\\') {
        const next = this.getc(true);
        if (next.c === '') return this.error('reached end of file while parsing quoted string', offset);
        if (next.c === quote) {
          text += quote;
        } else if (next.c === '\n') {
          // A continuation inside quotes joins the lines.
        } else {
          text += '\\';
          this.ungetc(next);
          escaped = true;
        }
      } else if (ch.c === quote) {
        break;
      } else {
        text += ch.c;
      }
      if (text.length >= MAX_TOKEN) return this.error('string too long', offset);
    }
    const tok: Token = { type: 'STRING', value: text, offset, length: Math.max(1, this.pos - offset), quoted: true };
    if (dollars.length > 0) tok.dollars = dollars;
    return tok;
  }
}
