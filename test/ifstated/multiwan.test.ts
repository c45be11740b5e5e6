import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SourceSyntaxError } from '../../src/core/index.js';
import { parseSpec } from '../../src/core/spec-loader.js';
import { checkText } from '../../src/ifstated/check.js';
import { checkConfigText } from '../../src/ifstated/config.js';
import { main } from '../../src/ifstated/cli.js';
import { generateMultiwan } from '../../src/ifstated/multiwan.js';
import { multiwanSchema } from '../../src/ifstated/multiwan-spec.js';
import { simulate } from '../../src/ifstated/simulate.js';
import { captureIo } from '../helpers/io.js';
import { haveCommand, haveNetns, needs, repoRoot } from '../helpers/system.js';

function spec(n: number, backend = 'pf'): string {
  const ups = Array.from({ length: n }, (_, i) => `  - { name: isp${String(i + 1)}, interface: em${String(i + 1)}, gateway: 10.${String(i)}.0.1, source: 10.${String(i)}.0.2 }`);
  return `backend: ${backend}\nlan: { interface: em0, network: 192.168.1.0/24 }\nuplinks:\n${ups.join('\n')}\npinned:\n  - { name: https, proto: tcp, port: https, uplink: isp2 }\n`;
}

test('2 to 4 uplinks: 2^N states, each config parses strictly and checks clean of errors', () => {
  for (const n of [2, 3, 4]) {
    for (const backend of ['pf', 'nftables']) {
      const files = generateMultiwan(parseSpec(multiwanSchema, spec(n, backend), 's.yaml'), 's.yaml');
      const conf = files.find((f) => f.path === 'ifstated.conf')?.content ?? '';
      const loaded = checkConfigText(conf, { file: 'gen.conf', strict: true, interfaceExists: () => true });
      assert.deepEqual(loaded.diagnostics, [], `${String(n)} ${backend}`);
      assert.equal(loaded.config.states.length, 2 ** n);
      const rules = files.filter((f) => f.path.startsWith(backend === 'pf' ? 'pf/' : 'nft/'));
      assert.equal(rules.length, 2 ** n);
      const unreachable = checkText(conf, { file: 'gen.conf' }).findings.filter((d) => d.code === 'MOAT_IFSTATED_UNREACHABLE' || d.code === 'MOAT_IFSTATED_DEAD_END');
      assert.deepEqual(unreachable, []);
    }
  }
});

test('the generated machine fails over and back', () => {
  const files = generateMultiwan(parseSpec(multiwanSchema, spec(2), 's.yaml'), 's.yaml');
  const loaded = checkConfigText(files[0]?.content ?? '', { file: 'gen.conf', interfaceExists: () => true });
  const r = simulate(loaded.config, 'test * ok\nexpect state up_isp1_isp2\ntest isp1 fail\nexpect state up_isp2\ntest isp1 fail\ntest isp2 fail\nexpect state alldown\ntest * ok\ntest * ok\nexpect state up_isp1_isp2\n', 'ev');
  assert.equal(r.failedExpectations, 0, r.lines.join('\n'));
  assert.ok(r.lines.includes('  run [up_isp2 init]: pfctl -a multiwan -f /etc/moat-multiwan/pf/up_isp2.conf'));
});

test('pf anchors: the seed rules without the repetition; pinned traffic falls back', () => {
  const files = generateMultiwan(parseSpec(multiwanSchema, spec(2), 's.yaml'), 's.yaml');
  const both = files.find((f) => f.path === 'pf/up_isp1_isp2.conf')?.content ?? '';
  assert.match(both, /route-to \{ \(em1 10\.0\.0\.1\), \(em2 10\.1\.0\.1\) \} round-robin/);
  assert.match(both, /proto tcp from 192\.168\.1\.0\/24 to port https route-to \(em2 10\.1\.0\.1\)/);
  const only1 = files.find((f) => f.path === 'pf/up_isp1.conf')?.content ?? '';
  assert.match(only1, /to port https route-to \(em1 10\.0\.0\.1\)/);
  assert.doesNotMatch(only1, /em2/);
});

test('nftables: one table replaced atomically, marks per uplink', () => {
  const files = generateMultiwan(parseSpec(multiwanSchema, spec(3, 'nftables'), 's.yaml'), 's.yaml');
  const all = files.find((f) => f.path === 'nft/up_isp1_isp2_isp3.nft')?.content ?? '';
  assert.match(all, /^table ip moat_multiwan\ndelete table ip moat_multiwan\ntable ip moat_multiwan \{/m);
  assert.match(all, /numgen inc mod 3 map \{ 0 : 0x101, 1 : 0x102, 2 : 0x103 \}/);
  assert.ok(files.some((f) => f.path === 'routes.sh'));
});


test('bad specs: too few uplinks, unknown pinned uplink', () => {
  assert.throws(() => parseSpec(multiwanSchema, spec(1), 's.yaml'), /uplinks: at least 2 uplinks/);
});

test('multiwan errors carry file:line:col, at the field at fault', async () => {
  const cases: [string, string, RegExp][] = [
    ['uplink: isp2', 'uplink: isp9', /^s\.yaml:7:53: pinned\.0\.uplink: no uplink named 'isp9'\n/],
    ['name: isp2', 'name: isp1', /^s\.yaml:5:13: uplinks\.1\.name: name 'isp1' is used twice\n/],
    ['interface: em2', 'interface: em1', /^s\.yaml:5:30: uplinks\.1\.interface: em1 is also the interface of uplink isp1\n/],
    ['lan: { interface: em0', 'lan: { interface: em2', /^s\.yaml:2:19: lan\.interface: em2 is also an uplink's interface\n/],
  ];
  for (const [from, to, want] of cases) {
    const text = spec(2).replace(from, to);
    assert.throws(
      () => parseSpec(multiwanSchema, text, 's.yaml'),
      (e: unknown) => e instanceof SourceSyntaxError && want.test(e.format()),
      to,
    );
  }
  // Through the command: the message, not an internal error, and exit 65 from runCommand.
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-mwbad-'));
  try {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, `${spec(2)}defaultRoute: [isp3]\n`);
    await assert.rejects(main(['multiwan', f], captureIo()), (e: unknown) => e instanceof SourceSyntaxError && e.format().startsWith(`${f}:8:`) && e.message.includes("defaultRoute.0: no uplink named 'isp3'"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A spec built in code meets the same rules.
  const good = parseSpec(multiwanSchema, spec(2), 's.yaml');
  assert.throws(() => generateMultiwan({ ...good, defaultRoute: ['nope'] }, 's.yaml'), /defaultRoute\.0: no uplink named 'nope'/);
});

test('moat ifstated multiwan writes the files for the seed example', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-mw-'));
  try {
    const io = captureIo();
    assert.equal(await main(['multiwan', '-o', dir, join(repoRoot, 'examples', 'ifstated', 'seed-multiwan.yaml')], io), 0, io.err());
    const conf = readFileSync(join(dir, 'ifstated.conf'), 'utf8');
    assert.match(conf, /init-state up_isp1_isp2/);
    assert.match(readFileSync(join(dir, 'pf', 'up_isp2.conf'), 'utf8'), /match out on vr2 from 192\.168\.1\.0\/24 nat-to \(vr2\)/);
    // The example event script replays a failover against it.
    const sim = captureIo();
    assert.equal(await main(['simulate', '-f', join(dir, 'ifstated.conf'), join(repoRoot, 'examples', 'ifstated', 'failover.events')], sim), 0, sim.out());
    assert.match(sim.out(), /state up_isp2 -> alldown/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('multiwan --out is the long name of -o, relative to the working directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-mw-'));
  try {
    const io = captureIo({ cwd: dir });
    assert.equal(await main(['multiwan', '--out', 'gen', join(repoRoot, 'examples', 'ifstated', 'seed-multiwan.yaml')], io), 0, io.err());
    assert.match(readFileSync(join(dir, 'gen', 'ifstated.conf'), 'utf8'), /init-state up_isp1_isp2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nft(8) loads every generated ruleset', { timeout: 60_000 }, async (t) => {
  if (!needs(t, { 'root and network namespaces': haveNetns(), 'nft (Debian nftables)': haveCommand('nft') })) return;
  const files = generateMultiwan(parseSpec(multiwanSchema, spec(3, 'nftables'), 's.yaml'), 's.yaml');
  const ns = `moat-ifs-${String(process.pid)}-nft`;
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-nft-'));
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    for (const f of files.filter((x) => x.path.endsWith('.nft'))) {
      const p = join(dir, f.path.replace('/', '_'));
      writeFileSync(p, f.content);
      // Loaded twice: the second load replaces the table (no duplicate rules).
      for (let i = 0; i < 2; i++) {
        const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', p], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${f.path}: ${r.stderr}`);
      }
      const list = spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'moat_multiwan'], { encoding: 'utf8' });
      assert.equal(list.stdout.split('masquerade').length - 1, (f.path.match(/isp/g) ?? []).length, f.path);
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
  await Promise.resolve();
});
