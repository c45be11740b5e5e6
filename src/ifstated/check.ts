/**
 * `moat ifstated check`: what no ifstated tells you before it goes live.
 * Beyond the parser's own errors it looks at the state graph (states that
 * can never be reached, states with no way out, init blocks that bounce
 * between states), macros (unused ones, and `! $m` where m is an && / ||
 * expression, so the ! takes only its first term), and tests with no
 * timeout of their own.
 */
import type { ErrorCode } from '../core/index.js';
import { testKey, walkActions, terms, type Action, type Config, type StateDecl } from './ast.js';
import { checkConfigText, type Loaded } from './config.js';
import type { Diagnostic, ParseOptions } from './parser.js';

export interface Edge {
  from: string;
  to: string;
  /** True when the set-state sits in the state's init block. */
  init: boolean;
  /** True when no `if` guards it. */
  unconditional: boolean;
  offset: number;
}

export function stateEdges(config: Config): Edge[] {
  const edges: Edge[] = [];
  for (const s of config.states) {
    for (const [list, init] of [[s.init, true], [s.body, false]] as [Action[], boolean][]) {
      for (const { action, under } of walkActions(list)) {
        if (action.kind === 'set-state') edges.push({ from: s.name, to: action.target, init, unconditional: under.length === 0, offset: action.offset });
      }
    }
  }
  return edges;
}

export function initialState(config: Config): StateDecl | undefined {
  if (config.initState !== undefined) return config.states.find((s) => s.name === config.initState?.name);
  return config.states[0];
}

function warn(message: string, offset: number, length: number, code: ErrorCode, hint?: string): Diagnostic {
  const d: Diagnostic = { message, offset, length, severity: 'warning', code };
  if (hint !== undefined) d.hint = hint;
  return d;
}

/**
 * Everything `check` reports. With `strict`, tests without a timeout are not
 * reported: `timeout` is a moat extension that --strict refuses, so a config
 * for OpenBSD could not follow the advice.
 */
export function analyse(loaded: Loaded, options: { strict?: boolean } = {}): Diagnostic[] {
  const { config } = loaded;
  const out: Diagnostic[] = [...loaded.diagnostics];
  const names = new Set(config.states.map((s) => s.name));
  const edges = stateEdges(config).filter((e) => names.has(e.to));

  // Reachability from the initial state. A block cut short by a syntax error
  // may have held the missing edges, so the graph is judged only when whole.
  const whole = !config.states.some((s) => s.incomplete === true);
  const start = whole ? initialState(config) : undefined;
  if (start !== undefined) {
    const seen = new Set([start.name]);
    const todo = [start.name];
    for (let s = todo.pop(); s !== undefined; s = todo.pop()) {
      for (const e of edges) {
        if (e.from === s && !seen.has(e.to)) {
          seen.add(e.to);
          todo.push(e.to);
        }
      }
    }
    for (const s of config.states) {
      if (!seen.has(s.name)) out.push(warn(`state ${s.name} can never be reached from ${start.name}`, s.offset, s.name.length, 'MOAT_IFSTATED_UNREACHABLE'));
    }
  }
  if (whole && config.states.length > 1) {
    for (const s of config.states) {
      if (!edges.some((e) => e.from === s.name && e.to !== s.name)) out.push(warn(`state ${s.name} has no way out: nothing in it sets another state`, s.offset, s.name.length, 'MOAT_IFSTATED_DEAD_END'));
    }
  }

  // init ping-pong: following set-states made by init blocks leads back.
  const initEdges = edges.filter((e) => e.init && e.to !== e.from);
  const reported = new Set<string>();
  for (const first of initEdges) {
    const path = [first.from, first.to];
    let allUnconditional = first.unconditional;
    let cur = first.to;
    for (let hops = config.states.length; hops > 0; hops--) {
      const next = initEdges.find((e) => e.from === cur);
      if (next === undefined) break;
      allUnconditional &&= next.unconditional;
      path.push(next.to);
      if (next.to === first.from) {
        const key = [...new Set(path)].sort().join(' ');
        if (!reported.has(key)) {
          reported.add(key);
          const how = allUnconditional ? 'loops forever' : 'can loop';
          out.push(warn(`init ping-pong: ${path.join(' -> ')} ${how} (each init sets the next state)`, first.offset, first.to.length, 'MOAT_IFSTATED_INIT_LOOP'));
        }
        break;
      }
      cur = next.to;
    }
  }

  // parse.y expands `$name` only outside quotes: inside a run or test string
  // the shell gets `$name`, an unset variable, so the command runs without it.
  const values = new Map(config.macros.map((m) => [m.name, m.value]));
  const quotedUse = new Set<string>();
  for (const d of config.quotedDollars) {
    if (!values.has(d.name)) continue; // a shell variable on purpose
    quotedUse.add(d.name);
    // The string as the author meant it: each macro's `$name` replaced by its text.
    const meant = d.text.replace(/\$([A-Za-z0-9_]+)/g, (whole, name: string) => values.get(name) ?? whole);
    out.push(
      warn(
        `macro '${d.name}' is not expanded inside quotes: the shell runs this with an empty $${d.name}`,
        d.offset,
        d.length,
        'MOAT_IFSTATED_QUOTED_MACRO',
        `write the value itself ("${meant}"), or put the whole quoted string in a macro and use it unquoted`,
      ),
    );
  }

  for (const m of config.macros) {
    if (!m.used && !m.fromCommandLine && !quotedUse.has(m.name)) out.push(warn(`macro '${m.name}' is defined but not used`, m.offset, m.name.length, 'MOAT_IFSTATED_UNUSED_MACRO'));
  }

  const lists: Action[][] = [config.global, ...config.states.flatMap((s) => [s.init, s.body])];
  const seenTests = new Set<string>();
  for (const list of lists) {
    for (const { action } of walkActions(list)) {
      if (action.kind !== 'if') continue;
      const stack = [action.condition];
      for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
        if (e.kind === 'not') {
          if (e.negatedMacro !== undefined) {
            out.push(warn(`'! $${e.negatedMacro}' negates only the first term of ${e.negatedMacro}`, e.offset, 1, 'MOAT_IFSTATED_NEGATED_MACRO', `write '! ( $${e.negatedMacro} )' or put the macro's value in parentheses`));
          }
          stack.push(e.operand);
        } else if (e.kind === 'and' || e.kind === 'or') stack.push(e.left, e.right);
      }
      for (const t of terms(action.condition)) {
        if (options.strict === true || t.kind !== 'test' || t.timeout !== undefined || seenTests.has(testKey(t))) continue;
        seenTests.add(testKey(t));
        out.push(warn(`test "${t.command}" has no timeout; moat kills it after its interval (${String(t.interval)}s), OpenBSD never does`, t.offset, 1, 'MOAT_IFSTATED_NO_TIMEOUT', `add 'timeout N' (a moat extension)`));
      }
    }
  }
  return out;
}

export function checkText(source: string, options: ParseOptions): { loaded: Loaded; findings: Diagnostic[] } {
  // Interfaces are not checked: configs are checked on other machines.
  const loaded = checkConfigText(source, { ...options, interfaceExists: () => true });
  return { loaded, findings: analyse(loaded, { strict: options.strict === true }) };
}
