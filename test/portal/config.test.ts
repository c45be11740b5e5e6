import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCommand } from '../../src/core/index.js';
import { main, parsePortalConfig } from '../../src/portal/index.js';
import { captureIo } from '../helpers/io.js';
import { repoRoot } from '../helpers/system.js';

const example = join(repoRoot, 'examples', 'portal', 'portal.yaml');
const MINIMAL = `nas-id: gw1
interface: veth0
address: 10.1.0.1/24
radius:
  servers:
    - host: 10.9.0.2
      secret: testing123456
`;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await runCommand('moat portal', () => main(argv, io), io);
  return { code, out: io.out(), err: io.err() };
}

function withFile(text: string, body: (file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'moat-portal-cfg-'));
  const file = join(dir, 'portal.yaml');
  writeFileSync(file, text);
  return body(file).finally(() => {
    rmSync(dir, { recursive: true, force: true });
  });
}

test('the example config checks clean, and -n is check', async () => {
  const a = await run(['check', '-f', example]);
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /^nas-id: cafe-brighton-1$/m);
  assert.match(a.out, /^signature: hmac-sha256, valid 300s$/m);
  const b = await run(['-n', '-f', example]);
  assert.equal(b.code, 0);
  assert.equal(b.out, a.out);
});

test('defaults fill a minimal config', () => {
  const s = parsePortalConfig(MINIMAL, 'p.yaml');
  assert.equal(s.gateway, '10.1.0.1');
  assert.equal(s.prefixLength, 24);
  assert.equal(s.config.web.port, 3990);
  assert.equal(s.config.web.md, 'hmac-sha256');
  assert.equal(s.config.radius.servers[0]?.['auth-port'], 1812);
  assert.equal(s.config.radius['require-message-authenticator'], true);
  assert.equal(s.config.firewall.table, 'moat_portal');
  assert.deepEqual(s.config['mac-auth'].trusted, []);
});

test('errors point at file:line:col and exit 65', async () => {
  const cases: [string, RegExp][] = [
    [MINIMAL.replace('10.1.0.1/24', '10.1.0.1/33'), /portal\.yaml:3:10: address: must be an IPv4 address with a prefix length/],
    [`${MINIMAL}colour: blue\n`, /portal\.yaml:8:1: colour: unknown field/],
    [`${MINIMAL}web:\n  md: md5\n`, /portal\.yaml:9:7: web\.md: md5 needs uam-secret/],
    [`${MINIMAL}dhcp:\n  range: [10.1.1.10, 10.1.0.20]\n`, /portal\.yaml:9:10: dhcp\.range: must be a rising range inside 10\.1\.0\.1\/24/],
    [MINIMAL.replace('testing123456', 'short'), /portal\.yaml:7:15: radius\.servers\.0\.secret: must be at least 8 characters/],
    [`${MINIMAL}mac-auth:\n  trusted: [02:00:00:00:00]\n`, /mac-auth\.trusted\.0: must be a MAC address/],
    ['nas-id: [', /portal\.yaml:1:\d+: /],
  ];
  for (const [text, want] of cases) {
    await withFile(text, async (file) => {
      const r = await run(['check', '-f', file]);
      assert.equal(r.code, 65, `${r.err} for\n${text}`);
      assert.match(r.err, want);
      assert.doesNotMatch(r.err, /at .*\.js/);
    });
  }
});

test('a missing file is exit 66 with strerror wording', async () => {
  const r = await run(['check', '-f', '/nonexistent/portal.yaml']);
  assert.equal(r.code, 66);
  assert.match(r.err, /cannot read \/nonexistent\/portal\.yaml: No such file or directory/);
});

test('a cert that cannot be read fails the check', async () => {
  await withFile(`${MINIMAL}web:\n  cert: /nonexistent/c.pem\n  key: /nonexistent/k.pem\n`, async (file) => {
    const r = await run(['check', '-f', file]);
    assert.equal(r.code, 66);
    assert.match(r.err, /web\.cert: cannot read \/nonexistent\/c\.pem/);
  });
});

test('--help fits on one screen; unknown commands are usage errors', async () => {
  const h = await run(['--help']);
  assert.equal(h.code, 0);
  const lines = h.out.trimEnd().split('\n');
  assert.ok(lines.length <= 24, `${String(lines.length)} lines`);
  assert.ok(lines.every((l) => l.length <= 80));
  const u = await run(['frobnicate']);
  assert.equal(u.code, 64);
  assert.match(u.err, /unknown command 'frobnicate'/);
});

test('with the pf backend the table name leaves room for <table>_dns (PF_TABLE_NAME_SIZE)', () => {
  const fw = (table: string): string => `${MINIMAL}firewall:\n  backend: pf\n  table: ${table}\n`;
  assert.equal(parsePortalConfig(fw('t'.repeat(27)), 'p.yaml').config.firewall.table.length, 27);
  assert.throws(() => parsePortalConfig(fw('t'.repeat(28)), 'p.yaml'), (e: unknown) => e instanceof Error && e.message === 'firewall.table: with the pf backend, at most 27 characters' && (e as { line?: number }).line === 10);
  // nftables names may be longer.
  assert.equal(parsePortalConfig(`${MINIMAL}firewall:\n  table: ${'t'.repeat(30)}\n`, 'p.yaml').config.firewall.backend, 'nft');
});

test('dhcp.ipv6 needs address6', () => {
  const text = `${MINIMAL}dhcp:\n  range: [10.1.0.10, 10.1.0.20]\n  ipv6: true\n`;
  assert.throws(() => parsePortalConfig(text, 'p.yaml'), (e: unknown) => e instanceof Error && e.message === 'dhcp.ipv6: needs address6');
  assert.equal(parsePortalConfig(`${text}address6: fd00:1::1/64\n`, 'p.yaml').config.dhcp?.ipv6, true);
});
