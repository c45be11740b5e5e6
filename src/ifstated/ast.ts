/**
 * The parsed form of an ifstated.conf. The shapes follow the grammar of
 * OpenBSD's usr.sbin/ifstated/parse.y 1.56; `offset` is a 0-based index into
 * the source text so that errors and `check` findings can point with a caret.
 */

export type LinkCondition = 'up' | 'down' | 'unknown';

export interface LinkTerm {
  kind: 'link';
  ifname: string;
  condition: LinkCondition;
  offset: number;
}

/** `"cmd" every N`, with moat's optional `rise R fall F timeout T` extension. */
export interface TestTerm {
  kind: 'test';
  command: string;
  interval: number;
  /** Consecutive successes before the test counts as true (extension; default 1). */
  rise?: number;
  /** Consecutive failures before the test counts as false (extension; default 1). */
  fall?: number;
  /** Seconds before a run is killed (extension; default: the interval). */
  timeout?: number;
  offset: number;
}

export interface NotExpr {
  kind: 'not';
  operand: Expr;
  offset: number;
  /** Set when the operand came from a macro whose text has a top-level && or || (for `check`). */
  negatedMacro?: string;
}

export interface BinaryExpr {
  kind: 'and' | 'or';
  left: Expr;
  right: Expr;
  offset: number;
}

export type Expr = LinkTerm | TestTerm | NotExpr | BinaryExpr;

export interface RunAction {
  kind: 'run';
  command: string;
  offset: number;
}

export interface SetStateAction {
  kind: 'set-state';
  target: string;
  offset: number;
}

export interface IfAction {
  kind: 'if';
  condition: Expr;
  body: Action[];
  offset: number;
}

export type Action = RunAction | SetStateAction | IfAction;

export interface StateDecl {
  name: string;
  offset: number;
  /** Run on every entry into the state. */
  init: Action[];
  /** Re-run after every event while the state is current. */
  body: Action[];
  /** Set when a syntax error cut the block short: what follows it is unknown. */
  incomplete?: boolean;
}

export interface MacroDecl {
  name: string;
  value: string;
  offset: number;
  used: boolean;
  /** Set by `-D name=value`: it overrides assignments in the file. */
  fromCommandLine: boolean;
}

export interface Config {
  file: string;
  source: string;
  initState?: { name: string; offset: number };
  /** Actions outside any state, re-run after every event. */
  global: Action[];
  states: StateDecl[];
  macros: MacroDecl[];
  /** `$name`s inside quoted run and test strings, which ifstated does not expand. */
  quotedDollars: { name: string; offset: number; length: number; /** The whole quoted string. */ text: string }[];
}

/** The test key used for de-duplication, as ifstated.c's new_external(): (command, interval). */
export function testKey(t: TestTerm): string {
  return `${String(t.interval)}\u0000${t.command}`;
}

/** Every term of an expression, left to right. */
export function* terms(e: Expr): Generator<LinkTerm | TestTerm> {
  switch (e.kind) {
    case 'link':
    case 'test':
      yield e;
      return;
    case 'not':
      yield* terms(e.operand);
      return;
    case 'and':
    case 'or':
      yield* terms(e.left);
      yield* terms(e.right);
  }
}

/** Every action of a list, depth first, with the `if` conditions they sit under. */
export function* walkActions(actions: readonly Action[], under: readonly Expr[] = []): Generator<{ action: Action; under: readonly Expr[] }> {
  for (const a of actions) {
    yield { action: a, under };
    if (a.kind === 'if') yield* walkActions(a.body, [...under, a.condition]);
  }
}
