import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkText } from '../../src/ifstated/check.js';
import { captureIo } from '../helpers/io.js';
import { repoRoot } from '../helpers/system.js';
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
