// The shipped examples must stay loadable: the demo that `npm start` runs,
// the example config and finger.conf, and the rc.d script's shell syntax.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadAliases, settingsFromArgv, startDaemon } from '../../src/finger/index.js';
import { captureIo } from '../helpers/io.js';
import { repoRoot } from '../helpers/system.js';
import { rawQuery } from './finger-fixture.js';

const ex = (...p: string[]): string => join(repoRoot, 'examples', ...p);

describe('moat finger examples', () => {
  it('the example config and finger.conf load', async () => {
    assert.equal((await settingsFromArgv(['--config', ex('finger', 'finger.toml')], { cwd: repoRoot })).settings.runAsUser, '65534:65534');
    assert.equal(loadAliases(ex('finger', 'finger.conf')).size, 0);
    assert.equal(spawnSync('sh', ['-n', ex('finger', 'freebsd-rc.d')]).status, 0);
  });

  it('the npm start demo serves the bundled homes', async () => {
    // As `npm start` runs it, but on a free port.
    const { settings } = await settingsFromArgv(['--listen', '127.0.0.1:0', '--homes', 'examples/homes', '--config', 'examples/finger/finger.demo.toml'], { cwd: repoRoot });
    const d = await startDaemon(settings, captureIo());
    try {
      const port = Number((d.addresses[0] ?? '').split(':').pop());
      assert.match((await rawQuery(port, '/W alice\r\n')).data, /^Login: alice {28}Name: Alice Liddell\r\nProject: .*\r\nPlan:\r\n[\s\S]*Public key:/);
      assert.match((await rawQuery(port, 'builder\r\n')).data, /^Login: bob .*\r\nPlan: Gone fishing\.\r\n$/);
      assert.equal((await rawQuery(port, 'carol\r\n')).data, 'finger: carol: no such user.\r\n');
      assert.equal((await rawQuery(port, '\r\n')).data, 'Login: alice                            Name: Alice Liddell\r\n');
    } finally {
      await d.close(100);
    }
  });
});
