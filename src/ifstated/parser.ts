/**
 * A hand-written recursive-descent parser for the grammar of OpenBSD's
 * usr.sbin/ifstated/parse.y 1.56:
 *
 *   grammar  : { '\n' | INITSTATE STRING '\n' | varset '\n' | action '\n' | state '\n' }
 *   varset   : STRING '=' STRING { STRING }          (words joined with one space)
 *   action   : RUN STRING | SETSTATE STRING | IF expr action_block
 *   action_block : optnl '{' optnl (action nl)+ '}' | optnl action
 *   state    : STATE string optnl '{' optnl ((init | action) nl)+ '}'
 *   init     : INIT action_block
 *   expr     : '!' expr | expr (AND|OR) expr | term    (&& and || equal, left-assoc; ! binds tightest)
 *   term     : STRING '.' LINK '.' (UP|DOWN|UNKNOWN) | STRING EVERY NUMBER | '(' expr ')'
 *
 * Error recovery is yacc's `grammar error '\n'`: report, skip to the end of
 * the line, carry on at the top level, and a report within three tokens of
 * the last one is suppressed. One difference: an error inside a state's
 * block skips to the end of that block (or to a `state` that starts a line,
 * when its '}' is missing) and keeps the state declared, where yacc would
 * read the rest of the block as top-level lines and drop the state, so that
 * every set-state naming it was reported as undeclared.
 */
import type { Action, Config, Expr, MacroDecl, StateDecl, TestTerm } from './ast.js';
import { Lexer, type Token } from './lexer.js';
import { Abort, TokenCursor, type Diagnostic } from './token-cursor.js';

export type { Diagnostic } from './token-cursor.js';

export interface ParseOptions {
  file: string;
  /** `-D name=value` definitions; they win over the file's assignments. */
  defines?: Readonly<Record<string, string>>;
  /** OpenBSD's behaviour exactly: final newline required, no extensions. */
  strict?: boolean;
}

export interface ParseResult {
  config: Config;
  diagnostics: Diagnostic[];
  /** Raw set-state tails that made a syntax error: `set-state all working` → ['all', 'working']. */
  brokenSetStates: { words: string[]; offset: number; length: number }[];
}

const EXTENSION_WORDS = new Set(['rise', 'fall', 'timeout']);

export function parseConfig(source: string, options: ParseOptions): ParseResult {
  return new Parser(source, options).run();
}

class Parser extends TokenCursor {
  private readonly macros: Map<string, MacroDecl>;
  private readonly config: Config;
  private currentState: StateDecl | undefined;
  /** `openBraces` inside the current state's block, once its '{' is read. */
  private stateBraces: number | undefined;
  private readonly broken: ParseResult['brokenSetStates'] = [];
  private readonly strict: boolean;

  constructor(source: string, options: ParseOptions) {
    const strict = options.strict === true;
    const macros = new Map<string, MacroDecl>();
    for (const [name, value] of Object.entries(options.defines ?? {})) {
      macros.set(name, { name, value, offset: 0, used: false, fromCommandLine: true });
    }
    super(
      new Lexer(
        source,
        {
          get: (name) => {
            const m = macros.get(name);
            if (m === undefined) return undefined;
            m.used = true;
            return m.value;
          },
        },
        !strict,
      ),
    );
    this.strict = strict;
    this.macros = macros;
    this.config = { file: options.file, source, global: [], states: [], macros: [], quotedDollars: [] };
  }

  run(): ParseResult {
    for (;;) {
      try {
        if (this.is('EOF')) break;
        this.statement();
      } catch (e) {
        if (!(e instanceof Abort)) throw e;
        this.recover();
      }
    }
    this.flushLexErrors();
    this.config.macros = [...this.macros.values()];
    // Lexer errors and parser errors are found in source order; report them so.
    this.diagnostics.sort((a, b) => a.offset - b.offset);
    return { config: this.config, diagnostics: this.diagnostics, brokenSetStates: this.broken };
  }

  // yacc's `grammar error '\n'`: throw away tokens up to and including a newline.
  private recover(): void {
    const state = this.currentState;
    const braces = this.stateBraces;
    this.currentState = undefined;
    this.stateBraces = undefined;
    this.flushLexErrors();
    if (state !== undefined && braces !== undefined) {
      state.incomplete = true;
      if (!this.config.states.some((s) => s.name === state.name)) this.config.states.push(state);
      if (this.skipBlock(braces)) {
        this.shiftedSinceError = 0;
        return;
      }
    }
    while (!this.is('NL') && !this.is('EOF') && !this.is('ERROR')) this.advance();
    if (!this.is('EOF')) this.advance();
    this.shiftedSinceError = 0;
  }

  /**
   * Skip the rest of a state's block: through its '}' (false), or up to a
   * `state` at the start of a line (true), which means the '}' was missing.
   */
  private skipBlock(braces: number): boolean {
    let lineStart = false;
    while (!this.is('EOF')) {
      if (lineStart && this.is('STATE')) {
        this.openBraces = braces - 1;
        return true;
      }
      if (this.is('}') && this.openBraces === braces) {
        this.advance();
        return false;
      }
      lineStart = this.is('NL');
      this.advance();
    }
    return false;
  }

  /**
   * A name (state, init-state, set-state target). `up`, `down`, `state` and
   * the rest are keywords to parse.y's lexer unless quoted, so yacc says only
   * "syntax error"; say which word and why.
   */
  private name(): Token {
    const t = this.tok;
    if (t.type !== 'STRING' && !t.quoted && /^[a-z][a-z-]*$/.test(t.value) && t.value !== '-') {
      this.report(`syntax error: '${t.value}' is a reserved word`, t.offset, t.length, 'MOAT_IFSTATED_RESERVED', `quote it ("${t.value}") or choose another name`);
      throw new Abort();
    }
    return this.expect('STRING');
  }

  private statement(): void {
    switch (this.tok.type) {
      case 'NL':
        this.advance();
        return;
      case 'ERROR':
        this.advance();
        this.flushLexErrors();
        return;
      case 'INITSTATE': {
        this.advance();
        const name = this.name();
        this.config.initState = { name: name.value, offset: name.offset };
        break;
      }
      case 'STATE':
        this.state();
        break;
      case 'STRING':
        if (this.peek().type === '=') {
          this.varset();
          break;
        }
        this.syntaxError();
        break;
      case 'RUN':
      case 'SETSTATE':
      case 'IF':
        this.config.global.push(this.action());
        break;
      default:
        this.syntaxError();
    }
    if (!this.is('NL')) this.syntaxError();
    this.advance();
  }

  private varset(): void {
    const name = this.advance();
    this.advance(); // '='
    const value = this.words();
    if (/\s/.test(name.value)) {
      this.report('macro name cannot contain whitespace', name.offset, name.length, 'MOAT_IFSTATED_MACRO');
      return;
    }
    const existing = this.macros.get(name.value);
    if (existing?.fromCommandLine === true) return; // symset(): -D definitions persist
    this.macros.set(name.value, { name: name.value, value, offset: name.offset, used: existing?.used ?? false, fromCommandLine: false });
  }

  /** parse.y's `string`: one or more STRINGs joined with a space. */
  private words(): string {
    const parts = [this.expect('STRING').value];
    while (this.is('STRING')) parts.push(this.advance().value);
    return parts.join(' ');
  }

  private state(): void {
    this.advance();
    const nameTok = this.tok;
    this.name();
    let name = nameTok.value;
    while (this.is('STRING')) name += ` ${this.advance().value}`;
    if (this.config.states.some((s) => s.name === name)) {
      this.report(`state ${name} already exists`, nameTok.offset, nameTok.length, 'MOAT_IFSTATED_DUPLICATE_STATE');
      throw new Abort();
    }
    const state: StateDecl = { name, offset: nameTok.offset, init: [], body: [] };
    this.currentState = state;
    this.optnl();
    this.expect('{');
    this.stateBraces = this.openBraces;
    this.optnl();
    do {
      // An action is kept once its line has ended well, so a state kept after
      // an error holds nothing from the line with the error.
      if (this.is('INIT')) {
        this.advance();
        const init = this.actionBlock();
        this.nl();
        state.init.push(...init);
      } else {
        const action = this.action();
        this.nl();
        state.body.push(action);
      }
    } while (!this.is('}'));
    this.advance();
    this.config.states.push(state);
    this.currentState = undefined;
    this.stateBraces = undefined;
  }

  private optnl(): void {
    while (this.is('NL')) this.advance();
  }

  private nl(): void {
    this.expect('NL');
    this.optnl();
  }

  private actionBlock(): Action[] {
    this.optnl();
    if (this.is('{')) {
      this.advance();
      this.optnl();
      const list: Action[] = [];
      do {
        list.push(this.action());
        this.nl();
      } while (!this.is('}'));
      this.advance();
      return list;
    }
    return [this.action()];
  }

  private action(): Action {
    const t = this.tok;
    switch (t.type) {
      case 'RUN': {
        this.advance();
        const cmd = this.expect('STRING');
        this.config.quotedDollars.push(...(cmd.dollars ?? []).map((d) => ({ ...d, text: cmd.value })));
        return { kind: 'run', command: cmd.value, offset: t.offset };
      }
      case 'SETSTATE': {
        this.advance();
        const target = this.name();
        if (this.is('STRING')) {
          // `set-state all working`: remember the words so `check` can suggest a name.
          const run = [target, this.tok, ...this.ahead];
          const words: Token[] = [];
          for (const w of run) {
            if (w.type !== 'STRING') break;
            words.push(w);
          }
          const last = words[words.length - 1] ?? target;
          this.broken.push({ words: words.map((w) => w.value), offset: target.offset, length: last.offset + last.length - target.offset });
        }
        if (this.currentState === undefined) {
          this.report("set-state must be used inside 'if'", t.offset, t.length, 'MOAT_IFSTATED_SET_STATE_OUTSIDE');
          throw new Abort();
        }
        return { kind: 'set-state', target: target.value, offset: target.offset };
      }
      case 'IF': {
        this.advance();
        const condition = this.expr();
        const body = this.actionBlock();
        return { kind: 'if', condition, body, offset: t.offset };
      }
      default:
        return this.syntaxError();
    }
  }

  // Equal precedence, left-associative: `a || b && c` is `(a || b) && c` (parse.y: %left AND OR).
  private expr(): Expr {
    let left = this.unary();
    while (this.is('AND') || this.is('OR')) {
      const op = this.advance();
      const right = this.unary();
      left = { kind: op.type === 'AND' ? 'and' : 'or', left, right, offset: op.offset };
    }
    return left;
  }

  // parse.y: `'!' expr %prec UNARY`, so `!` takes the next term only.
  private unary(): Expr {
    if (this.is('!')) {
      const bang = this.advance();
      const fromMacro = this.tok.macroStart === true ? this.tok.macro : undefined;
      const operand = this.unary();
      const e: Expr = { kind: 'not', operand, offset: bang.offset };
      // `! $m` where m's text continues with && or ||: the ! took only its first term.
      if (fromMacro !== undefined && (this.is('AND') || this.is('OR')) && this.tok.macro === fromMacro && this.tok.macroStart !== true) {
        e.negatedMacro = fromMacro;
      }
      return e;
    }
    return this.term();
  }

  private term(): Expr {
    const t = this.tok;
    if (t.type === '(') {
      this.advance();
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (t.type !== 'STRING') return this.syntaxError();
    const next = this.peek();
    if (next.type === '.') {
      this.advance();
      this.advance();
      this.expect('LINK');
      this.expect('.');
      const cond = this.tok;
      if (cond.type !== 'UP' && cond.type !== 'DOWN' && cond.type !== 'UNKNOWN') this.syntaxError();
      this.advance();
      return { kind: 'link', ifname: t.value, condition: cond.type === 'UP' ? 'up' : cond.type === 'DOWN' ? 'down' : 'unknown', offset: t.offset };
    }
    if (next.type === 'EVERY') {
      this.config.quotedDollars.push(...(t.dollars ?? []).map((d) => ({ ...d, text: t.value })));
      this.advance();
      this.advance();
      const n = this.expect('NUMBER');
      const interval = Number(n.value);
      if (interval <= 0 || interval > 0xffffffff) {
        this.report(`invalid interval: ${n.value}`, n.offset, n.length, 'MOAT_IFSTATED_INTERVAL');
        throw new Abort();
      }
      const test: TestTerm = { kind: 'test', command: t.value, interval, offset: t.offset };
      this.extensions(test);
      return test;
    }
    return this.syntaxError();
  }

  /** moat's hysteresis extension: `"cmd" every 10 rise 2 fall 3 timeout 5`. */
  private extensions(test: TestTerm): void {
    while (this.is('STRING') && !this.tok.quoted && EXTENSION_WORDS.has(this.tok.value) && this.peek().type === 'NUMBER') {
      const word = this.advance();
      if (this.strict) {
        this.report(`'${word.value}' is a moat extension (not allowed with --strict)`, word.offset, word.length, 'MOAT_IFSTATED_STRICT');
        throw new Abort();
      }
      const n = this.advance();
      const v = Number(n.value);
      if (!Number.isInteger(v) || v < 1 || v > 86400) {
        this.report(`invalid ${word.value}: ${n.value}`, n.offset, n.length, 'MOAT_IFSTATED_INTERVAL');
        throw new Abort();
      }
      if (word.value === 'rise') test.rise = v;
      else if (word.value === 'fall') test.fall = v;
      else test.timeout = v;
    }
  }
}
