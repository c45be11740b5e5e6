// systemd socket activation (sd_listen_fds(3)): the service manager binds and
// passes the socket; moat finger serves on it without binding anything.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { freePort } from '../helpers/rsyslog.js';
import { haveCommand, needs } from '../helpers/system.js';
import { makeHomes, moatBin, rawQuery, sleep, type Homes } from './finger-fixture.js';

describe('moat finger under systemd-socket-activate', () => {
  let homes: Homes | undefined;
  let child: ChildProcess | undefined;
  after(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    homes?.cleanup();
  });

  it('serves on the inherited socket (LISTEN_FDS) and ignores --listen', async (t) => {
    if (!needs(t, { 'systemd-socket-activate (systemd)': haveCommand('systemd-socket-activate') })) return;
    homes = makeHomes(false);
    const port = await freePort();
    // The --listen given is a port nobody binds: with LISTEN_FDS set it must not be used.
    const unused = await freePort();
    child = spawn('systemd-socket-activate', ['-l', `127.0.0.1:${String(port)}`, process.execPath, moatBin, 'finger', '--listen', `127.0.0.1:${String(unused)}`, '--homes', homes.dir, '--allow-root'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    // systemd-socket-activate binds first; wait until it accepts.
    let r = await rawQuery(port, 'alice\r\n', 5000);
    for (let i = 0; i < 50 && r.error === 'ECONNREFUSED'; i++) {
      await sleep(50);
      r = await rawQuery(port, 'alice\r\n', 5000);
    }
    assert.match(r.data, /^Login: alice\r\n/, err);
    assert.equal(/moat-finger: listening on=(\S+)/.exec(err)?.[1], `127.0.0.1:${String(port)}`);
    assert.equal((await rawQuery(unused, 'alice\r\n', 2000)).error, 'ECONNREFUSED');
    child.kill('SIGTERM');
    await new Promise((resolve) => child?.once('exit', resolve));
  });
});
