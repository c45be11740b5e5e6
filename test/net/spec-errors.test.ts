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
