import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PassThrough } from 'node:stream';
import { formatRfc5424, Logger, parseSyslogTarget } from '../../src/core/index.js';
import { haveCommand, needs } from '../helpers/system.js';
import { startRsyslog, type Rsyslog } from '../helpers/rsyslog.js';

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let buf = '';
  stream.on('data', (c: Buffer) => (buf += c.toString()));
  return { stream, text: () => buf };
}

test('text lines carry the app name, severity and fields', () => {
  const { stream, text } = collect();
  const log = new Logger({ appName: 'moat-test', stderr: stream });
  log.info('query', { peer: '127.0.0.1', query: 'alice bob', ms: 3 });
  log.warning('slow');
  log.debug('hidden');
  assert.equal(text(), 'moat-test: query peer=127.0.0.1 query="alice bob" ms=3\nmoat-test: warning: slow\n');
});

test('JSON lines parse back to the same record', () => {
  const { stream, text } = collect();
  const log = new Logger({ appName: 'moat-test', stderr: stream, format: 'json', level: 'debug' });
  log.debug('hello', { n: 1, ok: true });
  const rec = JSON.parse(text()) as Record<string, unknown>;
  assert.equal(rec.level, 'debug');
  assert.equal(rec.msg, 'hello');
  assert.equal(rec.n, 1);
  assert.equal(rec.ok, true);
});

test('RFC 5424 framing: PRI, version, NILVALUE msgid, escaped SD values, BOM for UTF-8', () => {
  const line = formatRfc5424({
    facility: 'daemon',
    severity: 'notice',
    appName: 'moat finger',
    procId: '42',
    hostname: 'h',
    time: new Date('2026-01-02T03:04:05.000Z'),
    fields: { q: 'a"b]c\\d' },
    message: 'héllo',
  });
  assert.equal(line, '<29>1 2026-01-02T03:04:05.000Z h moat_finger 42 - [moat@32473 q="a\\"b\\]c\\\\d"] \ufeffhéllo');
});

test('syslog addresses parse, and bad ones are refused', () => {
  assert.deepEqual(parseSyslogTarget('udp://127.0.0.1'), { kind: 'udp', host: '127.0.0.1', port: 514 });
  assert.deepEqual(parseSyslogTarget('tcp://[::1]:6514'), { kind: 'tcp', host: '::1', port: 6514 });
  assert.deepEqual(parseSyslogTarget('unix:///dev/log'), { kind: 'unix', path: '/dev/log' });
  assert.throws(() => parseSyslogTarget('http://x'), { code: 'MOAT_SYSLOG_ADDRESS' });
  assert.throws(() => parseSyslogTarget('tcp://x:99999'), { code: 'MOAT_SYSLOG_ADDRESS' });
  assert.throws(() => parseSyslogTarget('unix://relative'), { code: 'MOAT_SYSLOG_ADDRESS' });
});

let rsyslog: Rsyslog | undefined;
const haveRsyslog = haveCommand('rsyslogd');
before(async () => {
  if (haveRsyslog) rsyslog = await startRsyslog();
});
after(async () => {
  await rsyslog?.stop();
});

for (const kind of ['udp', 'tcp', 'unix'] as const) {
  test(`messages reach a real rsyslogd intact over ${kind}`, async (t) => {
    if (!needs(t, { rsyslogd: haveRsyslog })) return;
    const r = rsyslog!;
    const url = kind === 'unix' ? `unix://${r.unixPath}` : `${kind}://127.0.0.1:${String(kind === 'udp' ? r.udpPort : r.tcpPort)}`;
    const tag = `${kind}-${String(Date.now())}`;
    const log = new Logger({ appName: 'moat-test', syslog: url, facility: 'local3' });
    // UDP is fire-and-forget: repeat a probe until rsyslog's input thread is up.
    if (kind === 'udp') {
      for (let i = 0; i < 100; i++) {
        log.info(`probe ${tag}`);
        await log.flush();
        if ((await r.lines()).some((l) => l.includes(`probe ${tag}`))) break;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    log.log('err', `grüße ✓ ${tag}`, { peer: '127.0.0.1', query: 'a "quoted" ]x', bytes: 12 });
    await log.close();
    const got = await r.waitFor(new RegExp(`✓ ${tag}$`));
    const [pri, app, procid, msgid, sd, msg] = got.split('|');
    assert.equal(pri, String(19 * 8 + 3)); // local3.err
    assert.equal(app, 'moat-test');
    assert.equal(procid, String(process.pid));
    assert.equal(msgid, '-');
    assert.equal(sd, '[moat@32473 peer="127.0.0.1" query="a \\"quoted\\" \\]x" bytes="12"]');
    assert.equal(msg?.replace(/^\ufeff/, ''), `grüße ✓ ${tag}`);
  });
}

test('a dead TCP syslog server never blocks or grows the queue without bound', async () => {
  const log = new Logger({ appName: 'moat-test', syslog: 'tcp://127.0.0.1:1' });
  for (let i = 0; i < 5000; i++) log.info(`m${String(i)}`);
  await log.close();
  assert.ok(log.dropped >= 4000, `dropped ${String(log.dropped)}`);
});
