import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkConfigText, type Loaded } from '../../src/ifstated/config.js';
import { parseConfig } from '../../src/ifstated/parser.js';
import { actionsTree, exprTree } from '../../src/ifstated/render.js';
import { fixture, repoRoot } from '../helpers/system.js';

const anyInterface = (): boolean => true;

function load(source: string, extra: { strict?: boolean; defines?: Record<string, string>; interfaceExists?: (n: string) => boolean } = {}): Loaded {
  return checkConfigText(source, { file: 't.conf', interfaceExists: anyInterface, ...extra });
}

function firstCondition(source: string, defines?: Record<string, string>): string {
  const l = load(source, defines === undefined ? {} : { defines });
  assert.deepEqual(l.diagnostics, []);
  const a = l.config.global[0];
  assert.ok(a?.kind === 'if');
  return exprTree(a.condition);
}

const lineOf = (l: Loaded, i = 0): number => {
  const d = l.diagnostics[i];
  assert.ok(d);
  return l.config.source.slice(0, d.offset).split('\n').length;
};

test('&& and || have equal precedence and associate to the left', () => {
  assert.equal(firstCondition('if a.link.up || b.link.up && c.link.up\n run "x"\n'), '(and (or (link a up) (link b up)) (link c up))');
  assert.equal(firstCondition('if a.link.up && b.link.up || c.link.up\n run "x"\n'), '(or (and (link a up) (link b up)) (link c up))');
  assert.equal(firstCondition('if a.link.up && (b.link.up || c.link.down)\n run "x"\n'), '(and (link a up) (or (link b up) (link c down)))');
});

test('! binds tighter than && and ||', () => {
  assert.equal(firstCondition('if ! a.link.up || b.link.unknown\n run "x"\n'), '(or (not (link a up)) (link b unknown))');
  assert.equal(firstCondition('if !(a.link.up || b.link.up)\n run "x"\n'), '(not (or (link a up) (link b up)))');
  assert.equal(firstCondition('if ! ! a.link.up\n run "x"\n'), '(not (not (link a up)))');
});

test('macros are text: expanded outside quotes, lexed again, not inside quotes', () => {
  const src = 'm = "a.link.up || b.link.up"\nif ! $m\n run "echo $m"\n';
  const l = load(src);
  assert.deepEqual(l.diagnostics, []);
  const a = l.config.global[0];
  assert.ok(a?.kind === 'if');
  // Text substitution: `! a || b`, so the ! takes only the first term.
  assert.equal(exprTree(a.condition), '(or (not (link a up)) (link b up))');
  assert.deepEqual(actionsTree(a.body), ['(run "echo $m")']);
});

test('a macro holding a quoted test and parentheses (the seed\'s form)', () => {
  const src = `t = '( "ping -c 1 host" every 10 )'\nif ! $t\n run "x"\n`;
  assert.equal(firstCondition(src), '(not (test "ping -c 1 host" 10))');
});

test('-D overrides the file, and the value follows the last =', () => {
  const src = 'if_name = "em0"\nif $if_name.link.up\n run "x"\n';
  assert.equal(firstCondition(src, { if_name: 'em1' }), '(link em1 up)');
});

test('dotted interface names must be quoted', () => {
  assert.equal(firstCondition('if "vlan0.5".link.up\n run "x"\n'), '(link vlan0.5 up)');
  const l = load('if vlan0.5.link.up\n run "x"\n');
  assert.equal(l.diagnostics[0]?.message, 'syntax error');
});

test('comments, continuation lines and blocks', () => {
  const src = 'state one { # comment\n\tinit {\n\t\trun "a \\\n b"\n\t}\n\tif a.link.up \\\n && b.link.up {\n\t\trun "c"\n\t\tset-state one\n\t}\n}\n';
  const l = load(src);
  assert.deepEqual(l.diagnostics, []);
  const s = l.config.states[0];
  assert.ok(s);
  assert.deepEqual(actionsTree(s.init), ['(run "a  b")']);
  assert.deepEqual(actionsTree(s.body), ['(if (and (link a up) (link b up))', '  (run "c")', '  (set-state one)', ')']);
});

test("OpenBSD's errors, at the right place", () => {
  const cases: [string, string, number][] = [
    ['state a {\n run "x"\n}\nstate a {\n run "y"\n}\n', 'state a already exists', 4],
    ['if $nope\n run "x"\n', "macro 'nope' not defined", 1],
    ['state a {\n if x.link.up\n  set-state b\n}\n', "state 'b' not declared", 3],
    ['init-state zz\nstate a {\n run "x"\n}\n', 'invalid start state zz', 1],
    ['if a.link.up\n set-state a\nstate a {\n run "x"\n}\n', "set-state must be used inside 'if'", 2],
    ['state a {\n if "true" every 0\n  run "x"\n}\n', 'invalid interval: 0', 2],
    ['run "x\n', 'reached end of file while parsing quoted string', 1],
    ['state a {\n}\n', 'syntax error', 2],
    ['x = 5\n', 'syntax error', 1],
    // An unclosed block: OpenBSD says only "syntax error"; we say where it ended.
    ['state a {\n if x.link.up\n  run "x"\n', "syntax error: unexpected end of file, a '}' is missing", 4],
  ];
  for (const [src, message, line] of cases) {
    const l = load(src);
    assert.equal(l.failed, true, src);
    assert.equal(l.diagnostics[0]?.message, message, src);
    assert.equal(lineOf(l), line, src);
  }
});

test('a missing final newline is accepted, but not with --strict', () => {
  const src = 'state a {\n run "x"\n}';
  assert.equal(load(src).failed, false);
  const strict = load(src, { strict: true });
  assert.equal(strict.failed, true);
  assert.equal(strict.diagnostics[0]?.message, 'syntax error');
});

test('an unknown interface is a warning, and an error with --strict', () => {
  const src = 'if nosuch0.link.up\n run "x"\n';
  const lax = load(src, { interfaceExists: () => false });
  assert.equal(lax.failed, false);
  assert.equal(lax.diagnostics[0]?.severity, 'warning');
  assert.equal(lax.diagnostics[0].message, 'unknown interface nosuch0');
  const strict = load(src, { strict: true, interfaceExists: () => false });
  assert.equal(strict.failed, true);
  assert.equal(strict.diagnostics[0]?.severity, 'error');
});

test('CRLF files are read, except under --strict', () => {
  const src = 'state a {\r\n run "x"\r\n}\r\n';
  assert.equal(load(src).failed, false);
  assert.equal(load(src, { strict: true }).failed, true);
});

test('hysteresis extension parses, and --strict rejects it', () => {
  assert.equal(firstCondition('if "ping x" every 10 rise 2 fall 3\n run "y"\n'), '(test "ping x" 10 rise 2 fall 3)');
  const strict = load('if "ping x" every 10 rise 2 fall 3\n run "y"\n', { strict: true });
  assert.equal(strict.failed, true);
  assert.match(strict.diagnostics[0]?.message ?? '', /'rise' is a moat extension/);
  // The words are not reserved: a state may still be called rise.
  assert.equal(load('state rise {\n run "x"\n}\n').failed, false);
});

test("the seed's config: a syntax error at line 102 and the state it discards", () => {
  const file = join(repoRoot, 'examples', 'ifstated', 'ifstated.conf');
  const l = checkConfigText(readFileSync(file, 'utf8'), { file, interfaceExists: anyInterface });
  assert.equal(l.failed, true);
  const first = l.diagnostics[0];
  assert.equal(first?.message, 'syntax error');
  assert.equal(first.hint, 'did you mean `allworking`');
  assert.equal(lineOf(l), 102);
  // OpenBSD throws the state with the error away, so the states that go to
  // it would name an undeclared state: moat keeps it declared, and the one
  // error is the only report.
  assert.deepEqual(l.config.states.map((s) => s.name), ['allworking', 'noisp1', 'noisp2', 'alldown']);
  assert.equal(l.config.states[3]?.incomplete, true);
  assert.deepEqual(l.diagnostics.slice(1), []);
});

test('after a syntax error in a block, parsing carries on at the next block', () => {
  const src = [
    'init-state one',
    'state one {',
    '\tif em0.link.down',
    '\t\tset-state two',
    '\trun "echo one" bogus',
    '\tif em1.link.down',
    '\t\tset-state three',
    '}',
    'state two {',
    '\tif em0.link.up',
    '\t\tset-state one',
    '}',
    'state three {',
    '\tif em1.link.up {',
    '\t\tset-state one',
    '\t}',
    '}',
    '',
  ].join('\n');
  const l = checkConfigText(src, { file: 'r.conf', interfaceExists: anyInterface });
  assert.deepEqual(
    l.diagnostics.map((d, i) => [d.message, lineOf(l, i)]),
    [['syntax error', 5]],
  );
  assert.deepEqual(l.config.states.map((s) => s.name), ['one', 'two', 'three']);
  // A missing '}' ends at the next `state` line, which is read as a state.
  const open = checkConfigText('state a {\n\trun "x" y\n\tif e0.link.up\n\t\tset-state b\nstate b {\n\tif e0.link.down\n\t\tset-state a\n}\n', { file: 'o.conf', interfaceExists: anyInterface });
  assert.deepEqual(open.diagnostics.map((d) => d.message), ['syntax error']);
  assert.deepEqual(open.config.states.map((s) => s.name), ['a', 'b']);
});

test("`init-state up` and `set-state down` say that up and down are reserved words", () => {
  const l = checkConfigText('init-state up\nstate "up" {\n\tif e0.link.down\n\t\tset-state down\n}\nstate "down" {\n\tif e0.link.up\n\t\tset-state "up"\n}\n', { file: 'w.conf', interfaceExists: anyInterface });
  assert.deepEqual(
    l.diagnostics.map((d) => `${d.message}; ${d.hint ?? ''}`),
    ['syntax error: \'up\' is a reserved word; quote it ("up") or choose another name', 'syntax error: \'down\' is a reserved word; quote it ("down") or choose another name'],
  );
  // Quoted, they are names (quoted strings are never keywords in parse.y).
  assert.deepEqual(checkConfigText('init-state "up"\nstate "up" {\n\tif e0.link.down\n\t\tset-state "down"\n}\nstate "down" {\n\tif e0.link.up\n\t\tset-state "up"\n}\n', { file: 'q.conf', interfaceExists: anyInterface }).diagnostics, []);
});

test("OpenBSD's example configs parse", () => {
  for (const name of ['openbsd-etc-examples.conf', 'openbsd-man-example.conf']) {
    const file = fixture('ifstated', name);
    const l = checkConfigText(readFileSync(file, 'utf8'), { file, strict: true, interfaceExists: anyInterface });
    assert.deepEqual(l.diagnostics, [], name);
    assert.ok(l.config.states.length >= 2, name);
  }
});

test('parseConfig never throws on junk', () => {
  for (const junk of ['{{{{', '}', '$', '"', "'", 'if ( ( (', 'state', '!!!', '\\', 'a = "b" c d', '\u0000\u0001', 'if x.link.up run']) {
    const r = parseConfig(junk, { file: 'j' });
    assert.ok(Array.isArray(r.diagnostics));
  }
});
