/**
 * `moat ifstated simulate -f FILE EVENTS`: replay a script of link and test
 * events through the same Machine the daemon uses, printing each transition
 * and each command that would run, without running anything.
 *
 * The event script, one event a line (`#` starts a comment):
 *   link IF up|down|unknown      a link changes
 *   test WHAT ok|fail            a test reports; WHAT is the test's command,
 *                                a macro whose text holds the test, or `*`
 *                                for every running test
 *   start                        start the machine here (else: before the
 *                                first event); link lines before it set the
 *                                initial states, which are otherwise `up`
 *   expect state NAME            fail (exit 1) unless the state is NAME
 *   # and blank lines are ignored
 */
import { SourceSyntaxError } from '../core/index.js';
import type { Config } from './ast.js';
import { Machine, type LinkState, type TestSpec } from './machine.js';

export interface SimulationResult {
  lines: string[];
  failedExpectations: number;
}

function unquote(s: string): string {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s;
}

export function simulate(config: Config, script: string, scriptFile: string): SimulationResult {
  const lines: string[] = [];
  let active: readonly TestSpec[] = [];
  const m = new Machine(config, {
    run: (command, where) => lines.push(`  run [${where}]: ${command}`),
    transition: (from, to, reason) => lines.push(`  state ${from ?? '(none)'} -> ${to}  (${reason})`),
    testsChanged: (a) => {
      active = a;
    },
    problem: (message) => lines.push(`  error: ${message}`),
  });
  const initial = new Map<string, LinkState>([...m.interfaces()].map((i) => [i, 'up']));
  const status = { started: false };
  let failed = 0;
  const start = (): void => {
    if (status.started) return;
    status.started = true;
    m.initialLinks(initial);
    lines.push(`start: links ${[...initial].map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`);
    m.start();
  };
  const fail = (msg: string, offset: number, len: number): never => {
    throw SourceSyntaxError.at(msg, scriptFile, script, offset, len, 'MOAT_IFSTATED_SCRIPT');
  };
  let offset = 0;
  for (const raw of script.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    const text = raw.replace(/#.*$/, '').trim();
    if (text === '') continue;
    const at = lineStart + raw.indexOf(text);
    const words = text.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
    const [verb, a, b, c] = words;
    if (verb === 'start' && words.length === 1) {
      start();
      continue;
    }
    if (verb === 'link' && words.length === 3 && a !== undefined && (b === 'up' || b === 'down' || b === 'unknown')) {
      const name = unquote(a);
      if (!status.started) {
        initial.set(name, b);
        continue;
      }
      lines.push(`event: link ${name} ${b}`);
      m.setLink(name, b);
      continue;
    }
    if (verb === 'test' && words.length === 3 && a !== undefined && (b === 'ok' || b === 'fail')) {
      start();
      const what = unquote(a);
      const macro = config.macros.find((x) => x.name === what);
      const hits = active.filter((t) => what === '*' || t.command === what || macro?.value.includes(t.command) === true);
      if (hits.length === 0) fail(`no running test matches '${what}' in state ${m.state ?? '(none)'}`, at, text.length);
      lines.push(`event: test ${what} ${b}`);
      for (const t of hits) m.testResult(t.scope, t.key, b === 'ok');
      continue;
    }
    if (verb === 'expect' && a === 'state' && b !== undefined && c === undefined) {
      start();
      const want = unquote(b);
      if (m.state === want) lines.push(`ok: state is ${want}`);
      else {
        failed++;
        lines.push(`FAILED: expected state ${want}, got ${m.state ?? '(none)'}`);
      }
      continue;
    }
    fail(`cannot read event '${text}': want 'link IF up|down|unknown', 'test WHAT ok|fail', 'start' or 'expect state NAME'`, at, text.length);
  }
  start();
  lines.push(`end: state ${m.state ?? '(none)'}, ${String(m.transitions)} transition(s)`);
  return { lines, failedExpectations: failed };
}
