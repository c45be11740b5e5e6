import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkText } from '../../src/ifstated/check.js';
import { captureIo } from '../helpers/io.js';
import { fixture, repoRoot } from '../helpers/system.js';
import { main } from '../../src/ifstated/cli.js';

const codes = (src: string): string[] => checkText(src, { file: 'c.conf' }).findings.map((d) => d.code);

test('unreachable states and states with no way out', () => {
  const c = codes('state a {\n if x.link.down\n  set-state b\n}\nstate b {\n run "stuck"\n}\nstate lonely {\n if x.link.up\n  set-state a\n}\n');
  assert.ok(c.includes('MOAT_IFSTATED_UNREACHABLE'));
  assert.ok(c.includes('MOAT_IFSTATED_DEAD_END'));
});

test('init ping-pong loops', () => {
  const r = checkText('state a {\n init set-state b\n}\nstate b {\n init set-state a\n}\n', { file: 'c.conf' });
  const d = r.findings.find((x) => x.code === 'MOAT_IFSTATED_INIT_LOOP');
  assert.match(d?.message ?? '', /a -> b -> a loops forever/);
});

test('unused macros and `! $m` over an || expression', () => {
  const r = checkText('unused = "x"\nm = "a.link.up || b.link.up"\nok = "( a.link.up || b.link.up )"\nif ! $m\n run "x"\nif ! $ok\n run "y"\n', { file: 'c.conf' });
  const c = r.findings.map((d) => d.code);
  assert.equal(c.filter((x) => x === 'MOAT_IFSTATED_NEGATED_MACRO').length, 1);
  assert.ok(r.findings.some((d) => d.message === "macro 'unused' is defined but not used"));
});

test('tests without a timeout are reported once each', () => {
  const c = codes('if "p" every 5 && "p" every 5\n run "x"\nif "q" every 5 timeout 2\n run "y"\n');
  assert.equal(c.filter((x) => x === 'MOAT_IFSTATED_NO_TIMEOUT').length, 1);
});

test("check on the seed says: did you mean `allworking`", async () => {
  const file = join(repoRoot, 'examples', 'ifstated', 'ifstated.conf');
  const io = captureIo();
  assert.equal(await main(['check', '-f', file], io), 1);
  assert.match(io.out(), /ifstated\.conf:102:15: syntax error; did you mean `allworking`\nset-state all working\n {14}\^/);
  assert.ok(readFileSync(file, 'utf8').includes('set-state all working'));
});

test('a clean config checks clean with exit 0', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-check-'));
  try {
    const f = join(dir, 'ok.conf');
    writeFileSync(f, 'state a {\n if "t" every 5 timeout 2\n  set-state b\n}\nstate b {\n if ! "t" every 5 timeout 2\n  set-state a\n}\n');
    const io = captureIo();
    assert.equal(await main(['check', '-f', f], io), 0, io.out());
    const n = captureIo();
    assert.equal(await main(['-n', '-f', f], n), 0);
    assert.equal(n.out(), 'configuration OK\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-n on the seed prints the errors and exits 1', async () => {
  const io = captureIo();
  assert.equal(await main(['-n', '-f', join(repoRoot, 'examples', 'ifstated', 'ifstated.conf')], io), 1);
  assert.match(io.err(), /:102:15: syntax error/);
  assert.equal(io.out(), '');
});

test('check: warnings alone exit 0, and 1 under --strict; every OpenBSD example passes', async () => {
  // A plain OpenBSD test has no timeout: a warning, not a failure.
  for (const name of ['openbsd-etc-examples.conf', 'openbsd-man-example.conf']) {
    const io = captureIo();
    assert.equal(await main(['check', '-f', fixture('ifstated', name)], io), 0, io.out());
    assert.match(io.out(), / 0 error\(s\), [1-9]\d* warning\(s\)\n$/);
  }
  // --strict refuses `timeout`, so it does not advise adding one...
  const etc = captureIo();
  assert.equal(await main(['check', '--strict', '-f', fixture('ifstated', 'openbsd-etc-examples.conf')], etc), 0, etc.out());
  assert.doesNotMatch(etc.out(), /timeout/);
  // ...and fails on any other warning (`! $links_up` negates only its first term).
  const man = captureIo();
  assert.equal(await main(['check', '--strict', '-f', fixture('ifstated', 'openbsd-man-example.conf')], man), 1);
  assert.match(man.out(), /negates only the first term of links_up/);
});

test('a $macro inside a quoted run or test string is warned at the use, not as unused', () => {
  const src = 'gw = "192.0.2.1"\nstate a {\n if "ping -c 1 $gw" every 10\n  run "logger lost $gw, $HOME \\$gw"\n}\n';
  const r = checkText(src, { file: 'q.conf' });
  const quoted = r.findings.filter((d) => d.code === 'MOAT_IFSTATED_QUOTED_MACRO');
  // One at each use: the test's and the run's; $HOME is not a macro, \$gw is literal.
  assert.deepEqual(
    quoted.map((d) => [r.loaded.config.source.slice(d.offset, d.offset + d.length), r.loaded.config.source.slice(0, d.offset).split('\n').length]),
    [
      ['$gw', 3],
      ['$gw', 4],
    ],
  );
  assert.match(quoted[0]?.message ?? '', /not expanded inside quotes: the shell runs this with an empty \$gw/);
  // The hint shows the string as meant, with the macro's text in place.
  assert.match(quoted[0]?.hint ?? '', /^write the value itself \("ping -c 1 192\.0\.2\.1"\)/);
  assert.ok(!r.findings.some((d) => d.code === 'MOAT_IFSTATED_UNUSED_MACRO'), JSON.stringify(r.findings));
  // A macro used nowhere is still reported as unused.
  assert.ok(codes('gw = "x"\nstate a {\n run "echo"\n}\n').includes('MOAT_IFSTATED_UNUSED_MACRO'));
});
