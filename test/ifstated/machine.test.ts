import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceSyntaxError } from '../../src/core/index.js';
import { checkConfigText } from '../../src/ifstated/config.js';
import { Machine, type TestSpec } from '../../src/ifstated/machine.js';
import { simulate } from '../../src/ifstated/simulate.js';

function machine(source: string, inhibit = false) {
  const l = checkConfigText(source, { file: 'm.conf', interfaceExists: () => true });
  assert.deepEqual(l.diagnostics, []);
  const log: string[] = [];
  let active: readonly TestSpec[] = [];
  const m = new Machine(
    l.config,
    {
      run: (c, where) => log.push(`run ${where}: ${c}`),
      transition: (from, to) => log.push(`${from ?? '-'} -> ${to}`),
      testsChanged: (a) => {
        active = a;
      },
      problem: (p) => log.push(`problem: ${p}`),
    },
    inhibit,
  );
  return { m, log, active: () => active };
}

test('init runs on every entry; the last set-state of a pass wins', () => {
  const { m, log } = machine(`
state a {
	init run "enter a"
	if e0.link.down {
		set-state b
		set-state c
	}
}
state b {
	init run "enter b"
}
state c {
	init run "enter c"
	if e0.link.up
		set-state a
}
`);
  m.initialLinks([['e0', 'up']]);
  m.start();
  assert.equal(m.state, 'a');
  m.setLink('e0', 'down');
  assert.equal(m.state, 'c');
  m.setLink('e0', 'up');
  assert.equal(m.state, 'a');
  assert.deepEqual(log, ['- -> a', 'run a init: enter a', 'a -> c', 'run c init: enter c', 'c -> a', 'run a init: enter a']);
});

test('link.up is true for an unknown link state; link.unknown only then', () => {
  const { m, log } = machine('if e0.link.up\n run "up"\nif e0.link.unknown\n run "unknown"\nif e0.link.down\n run "down"\n');
  m.initialLinks([['e0', 'unknown']]);
  m.start();
  assert.deepEqual(log, ['run global: up', 'run global: unknown']);
  log.length = 0;
  m.setLink('e0', 'down');
  assert.deepEqual(log, ['run global: down']);
});

test('level-triggered: the global body runs again after every event', () => {
  const { m, log } = machine('if e0.link.up\n run "e0 is up"\n');
  m.initialLinks([['e0', 'up'], ['e1', 'up']]);
  m.start();
  m.setLink('e1', 'down'); // e1 is not in the config, but any change is an event
  m.setLink('e0', 'down');
  m.setLink('e0', 'up');
  // Startup, e1's change (e0 still up), e0 up again; not e0's own down.
  assert.deepEqual(log, ['run global: e0 is up', 'run global: e0 is up', 'run global: e0 is up']);
});

test("a state's body waits until its tests have reported; tests stop on leaving", () => {
  const { m, log, active } = machine(`
state a {
	if ! "t1" every 5
		set-state b
}
state b {
	if "t2" every 7
		set-state a
}
`);
  m.start();
  assert.deepEqual(active().map((t) => t.command), ['t1']);
  assert.equal(active()[0]?.timeout, 5);
  m.testResult('a', active()[0]?.key ?? '', false);
  assert.equal(m.state, 'b');
  assert.deepEqual(active().map((t) => t.command), ['t2']);
  // A late result from the stopped test changes nothing.
  m.testResult('a', '5\u0000t1', true);
  assert.equal(m.state, 'b');
  m.testResult('b', active()[0]?.key ?? '', true);
  assert.equal(m.state, 'a');
  assert.deepEqual(log, ['- -> a', 'a -> b', 'b -> a']);
});

test('tests are de-duplicated by (command, interval)', () => {
  const { m, active } = machine('state a {\n if "x" every 5 && "x" every 5 || "x" every 6\n  run "y"\n}\n');
  m.start();
  assert.deepEqual(active().map((t) => `${t.command}/${String(t.interval)}`), ['x/5', 'x/6']);
});

test('rise and fall: hysteresis on a test', () => {
  const { m, active } = machine('state a {\n if "p" every 1 rise 2 fall 3\n  set-state b\n}\nstate b {\n if ! "p" every 1 rise 2 fall 3\n  set-state a\n}\n');
  m.start();
  const key = (): string => active()[0]?.key ?? '';
  m.testResult('a', key(), true);
  assert.equal(m.state, 'a');
  m.testResult('a', key(), true);
  assert.equal(m.state, 'b');
  for (let i = 0; i < 2; i++) m.testResult('b', key(), false);
  assert.equal(m.state, 'b');
  m.testResult('b', key(), false);
  assert.equal(m.state, 'a');
});

test('an init ping-pong loop is cut off and reported', () => {
  const { m, log } = machine('state a {\n init set-state b\n}\nstate b {\n init set-state a\n}\n');
  m.start();
  assert.ok(log.some((l) => l.startsWith('problem: more than')));
});

test('-i: the first value of a link is not applied', () => {
  const { m, log } = machine('if e0.link.down\n run "down"\n', true);
  m.initialLinks([['e0', 'down']]);
  m.start();
  assert.deepEqual(log, []);
  m.setLink('e0', 'up');
  m.setLink('e0', 'down');
  assert.deepEqual(log, ['run global: down']);
});

test('simulate replays a script and checks expectations', () => {
  const l = checkConfigText('t = \'( "ping gw" every 10 )\'\nstate working {\n if ! $t\n  set-state broken\n}\nstate broken {\n init run "pfctl -f broken.conf"\n if $t\n  set-state working\n}\n', { file: 's.conf', interfaceExists: () => true });
  assert.deepEqual(l.diagnostics, []);
  const r = simulate(l.config, 'test t ok\nexpect state working\ntest t fail\nexpect state broken\ntest "ping gw" ok\nexpect state broken\n', 'ev');
  assert.equal(r.failedExpectations, 1);
  assert.ok(r.lines.includes('  run [broken init]: pfctl -f broken.conf'));
  assert.ok(r.lines.includes('FAILED: expected state broken, got working'));
  assert.throws(
    () => simulate(l.config, 'bogus line\n', 'ev'),
    (e: unknown) => e instanceof SourceSyntaxError && e.format().startsWith("ev:1:1: cannot read event 'bogus line'"),
  );
});
