// A net spec's mistakes are named where they are: a misspelt key at its own
// line as an unknown field with the closest known key, and every error in
// the file at once, for render and check alike, with nothing written.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EX_DATAERR, runCommand } from '../../src/core/index.js';
import { main } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { repoRoot } from '../helpers/system.js';

test("'interfce:' in a net spec: unknown field at its own line, did you mean 'interface', with every other error", async (t) => {
  const d = await mkdtemp(join(tmpdir(), `moat-net-spec-${String(process.pid)}-`));
  t.after(() => rm(d, { recursive: true, force: true }));
  const text = (await readFile(join(repoRoot, 'examples/net/seed-guests.yaml'), 'utf8'))
    .replace('    interface: vioif0', '    interfce: vioif0')
    .replace('mac: "00:50:56:00:03:CC"', 'mac: "00:50:56:00:03"');
  const file = join(d, 'typo.yaml');
  await writeFile(file, text);
  const lines = text.split('\n');
  const typoLine = lines.findIndex((l) => l.includes('interfce:')) + 1;
  const macLine = lines.findIndex((l) => l.includes('"00:50:56:00:03"')) + 1;
  const out = join(d, 'out');
  for (const argv of [['render', file, '--os', 'netbsd', '-o', out], ['check', file]]) {
    const io = captureIo();
    assert.equal(await runCommand('moat net', () => main(argv, io), io), EX_DATAERR, argv[0]);
    const err = io.err();
    const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(err, new RegExp(`^${esc}:${String(typoLine)}:5: guests\\.1\\.interfce: unknown field; did you mean 'interface'\\?$`, 'm'), err);
    assert.match(err, new RegExp(`^${esc}:${String(macLine)}:\\d+: failover\\.2\\.mac: must be a MAC address`, 'm'), err);
    // The misspelling is one mistake: no second error for the missing 'interface'.
    assert.doesNotMatch(err, /guests\.1\.interface:/);
    assert.match(err, /^2 errors$/m);
  }
  assert.equal(existsSync(out), false);
});

/** The example spec with one of check's errors planted. */
const PITFALLS: Record<string, { edit: (s: string) => string; rule: string; near: string }> = {
  'duplicate MAC': { edit: (s) => s.replace('mac: "00:50:56:00:02:BB"', 'mac: "00:50:56:00:01:AA"'), rule: 'mac-duplicate', near: 'mac: "00:50:56:00:01:AA"' },
  'two guests on one failover IP': { edit: (s) => s.replace('ip: 203.0.113.100/32', 'ip: 198.51.100.10/32'), rule: 'ip-shared', near: 'ip: 198.51.100.10/32' },
  'missing MAC': { edit: (s) => s.replace('    mac: "00:50:56:00:03:CC"\n', ''), rule: 'mac-missing', near: '- ip: 203.0.113.100' },
};

for (const [name, p] of Object.entries(PITFALLS)) {
  test(`render refuses a spec check rejects (${name}): nothing written, EX_DATAERR`, async (t) => {
    const d = await mkdtemp(join(tmpdir(), `moat-net-pit-${String(process.pid)}-`));
    t.after(() => rm(d, { recursive: true, force: true }));
    const text = p.edit(await readFile(join(repoRoot, 'examples/net/seed-guests.yaml'), 'utf8'));
    const file = join(d, 'pit.yaml');
    await writeFile(file, text);
    const chk = captureIo();
    assert.equal(await main(['check', file], chk), 1);
    assert.match(chk.out(), new RegExp(`pit\\.yaml:\\d+: ${p.rule}: `));
    const out = join(d, 'out');
    const io = captureIo();
    assert.equal(await runCommand('moat net', () => main(['render', file, '--os', 'freebsd', '-o', out], io), io), EX_DATAERR);
    assert.match(io.err(), new RegExp(`pit\\.yaml:\\d+: ${p.rule}: .+ \\(fix: `));
    assert.match(io.err(), /^moat net: .*pit\.yaml: \d+ errors? \(see 'moat net check'\); nothing written$/m);
    assert.equal(existsSync(out), false);
  });
}

test('render goes on past a warning (legacy-apple crypto, pipex off) and prints it', async (t) => {
  const d = await mkdtemp(join(tmpdir(), `moat-net-warn-${String(process.pid)}-`));
  t.after(() => rm(d, { recursive: true, force: true }));
  const text = (await readFile(join(repoRoot, 'examples/net/seed-vpn.yaml'), 'utf8')).replace('crypto: modern ', 'crypto: legacy-apple ').replace('pipex: true ', 'pipex: false ');
  const file = join(d, 'warn.yaml');
  await writeFile(file, text);
  const io = captureIo();
  assert.equal(await main(['render', file, '--os', 'openbsd', '-o', join(d, 'out')], io), 0, io.err());
  assert.match(io.err(), /^moat net render: warning: .*warn\.yaml:\d+: legacy-crypto: /m);
  assert.match(io.err(), /^moat net render: warning: .*warn\.yaml:\d+: pipex-disabled: /m);
  assert.ok(existsSync(join(d, 'out/vpn/etc/ipsec.conf')));
});
