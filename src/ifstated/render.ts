/** Expressions and actions back to text: for graph labels, golden trees and simulate output. */
import type { Action, Expr } from './ast.js';

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** ifstated.conf syntax, fully parenthesised so that grouping is visible. */
export function exprText(e: Expr): string {
  switch (e.kind) {
    case 'link':
      return `${/^[A-Za-z0-9_:-]+$/.test(e.ifname) ? e.ifname : quote(e.ifname)}.link.${e.condition}`;
    case 'test': {
      let s = `${quote(e.command)} every ${String(e.interval)}`;
      if (e.rise !== undefined) s += ` rise ${String(e.rise)}`;
      if (e.fall !== undefined) s += ` fall ${String(e.fall)}`;
      if (e.timeout !== undefined) s += ` timeout ${String(e.timeout)}`;
      return s;
    }
    case 'not':
      return `! ${e.operand.kind === 'and' || e.operand.kind === 'or' ? `(${exprText(e.operand)})` : exprText(e.operand)}`;
    case 'and':
    case 'or': {
      const side = (x: Expr): string => (x.kind === 'and' || x.kind === 'or' ? `(${exprText(x)})` : exprText(x));
      return `${side(e.left)} ${e.kind === 'and' ? '&&' : '||'} ${side(e.right)}`;
    }
  }
}

/** A Lisp-like tree: `(or (and (link em0 up) (test "ping" 10)) (not (link em1 down)))`. */
export function exprTree(e: Expr): string {
  switch (e.kind) {
    case 'link':
      return `(link ${e.ifname} ${e.condition})`;
    case 'test':
      return `(test ${quote(e.command)} ${String(e.interval)}${e.rise === undefined ? '' : ` rise ${String(e.rise)}`}${e.fall === undefined ? '' : ` fall ${String(e.fall)}`}${e.timeout === undefined ? '' : ` timeout ${String(e.timeout)}`})`;
    case 'not':
      return `(not ${exprTree(e.operand)})`;
    case 'and':
    case 'or':
      return `(${e.kind} ${exprTree(e.left)} ${exprTree(e.right)})`;
  }
}

export function actionsTree(actions: readonly Action[], indent = ''): string[] {
  const out: string[] = [];
  for (const a of actions) {
    if (a.kind === 'run') out.push(`${indent}(run ${quote(a.command)})`);
    else if (a.kind === 'set-state') out.push(`${indent}(set-state ${a.target})`);
    else {
      out.push(`${indent}(if ${exprTree(a.condition)}`);
      out.push(...actionsTree(a.body, `${indent}  `));
      out.push(`${indent})`);
    }
  }
  return out;
}
