/**
 * `moat ifstated graph`: the state machine as Graphviz DOT (and SVG through
 * dot(1) when it is installed). Solid edges come from state bodies, dashed
 * ones from init blocks; each is labelled with the `if` conditions above the
 * set-state. The initial state has a double border; an undeclared target,
 * or a state whose block has a syntax error, is red.
 */
import { spawn } from 'node:child_process';
import { walkActions, type Action, type Config } from './ast.js';
import { initialState } from './check.js';
import { exprText } from './render.js';

const dotString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function toDot(config: Config): string {
  const start = initialState(config);
  const out = ['digraph ifstated {', '  rankdir=LR;', '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  for (const s of config.states) {
    const attrs = s === start ? ['peripheries=2'] : [];
    // A block a syntax error cut short: its edges after the error are missing.
    if (s.incomplete === true) attrs.push('color=red', 'fontcolor=red', `label=${dotString(`${s.name}\n(syntax error)`)}`);
    out.push(`  ${dotString(s.name)}${attrs.length === 0 ? '' : ` [${attrs.join(', ')}]`};`);
  }
  const names = new Set(config.states.map((s) => s.name));
  for (const s of config.states) {
    for (const [list, init] of [[s.init, true], [s.body, false]] as [Action[], boolean][]) {
      for (const { action, under } of walkActions(list)) {
        if (action.kind !== 'set-state') continue;
        const label = [init ? 'init' : '', ...under.map(exprText)].filter((x) => x !== '').join(' &&\n') || 'always';
        const attrs = [`label=${dotString(label)}`];
        if (init) attrs.push('style=dashed');
        if (!names.has(action.target)) {
          out.push(`  ${dotString(action.target)} [color=red, fontcolor=red, label=${dotString(`${action.target}\n(undeclared)`)}];`);
        }
        out.push(`  ${dotString(s.name)} -> ${dotString(action.target)} [${attrs.join(', ')}];`);
      }
    }
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** Run `dot -Tsvg` on the text; undefined when dot is not installed. */
export function dotToSvg(dot: string, timeoutMs = 30_000): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn('dot', ['-Tsvg'], { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') resolve(undefined);
      else reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else if (out === '' && err === '' && code === null) resolve(undefined);
      else reject(new Error(`dot failed: ${err.trim()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(dot);
  });
}
