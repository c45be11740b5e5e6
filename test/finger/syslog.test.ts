// One log line per query reaches a real rsyslogd, over UDP, TCP and a unix socket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS, startDaemon } from '../../src/finger/index.js';
import { captureIo } from '../helpers/io.js';
import { startRsyslog, type Rsyslog } from '../helpers/rsyslog.js';
import { haveCommand, needs } from '../helpers/system.js';
import { makeHomes, rawQuery, type Homes } from './finger-fixture.js';

const haveRsyslog = haveCommand('rsyslogd');

describe('moat finger logging to syslog', () => {
  let rsyslog: Rsyslog | undefined;
  let homes: Homes | undefined;
  before(async () => {
    homes = makeHomes(false);
    if (haveRsyslog) rsyslog = await startRsyslog();
  });
  after(async () => {
    await rsyslog?.stop();
    homes?.cleanup();
  });

  for (const kind of ['udp', 'tcp', 'unix'] as const) {
    it(`sends the query line over ${kind}, and nothing to stderr with --log-no-local`, async (t) => {
      if (!needs(t, { rsyslogd: haveRsyslog }) || rsyslog === undefined) return;
      const url = kind === 'unix' ? `unix://${rsyslog.unixPath}` : `${kind}://127.0.0.1:${String(kind === 'udp' ? rsyslog.udpPort : rsyslog.tcpPort)}`;
      const io = captureIo();
      const d = await startDaemon({ ...DEFAULTS, listen: ['127.0.0.1:0'], homes: homes?.dir ?? '/', allowRoot: true, logSyslog: url, logNoLocal: true }, io);
      const port = Number((d.addresses[0] ?? '').split(':').pop());
      const who = `nosuch${kind}`;
      assert.match((await rawQuery(port, `${who}\r\n`)).data, /no such user/);
      const line = await rsyslog.waitFor(new RegExp(`moat-finger\\|.*query.*${who}`));
      // PRI 30 = daemon.info (RFC 5424 §6.2.1); the fields travel as structured data.
      assert.match(line, /^30\|moat-finger\|/);
      assert.match(line, /outcome="unknown"/);
      assert.match(line, /peer="127\.0\.0\.1"/);
      await d.close(100);
      assert.equal(io.err(), '');
    });
  }
});
