import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MoatError } from '../../../src/core/errors.js';
import { dnsmasqArgv, superviseDnsmasq } from '../../../src/portal/dnsmasq/index.js';
import { haveCommand, needs } from '../../helpers/system.js';

test('dnsmasq runs in the foreground with only our file, its log on stderr', () => {
  assert.deepEqual(dnsmasqArgv('/usr/sbin/dnsmasq', '/var/db/moat-portal/dnsmasq.conf'), [
    '/usr/sbin/dnsmasq',
    '-k',
    '--conf-file=/var/db/moat-portal/dnsmasq.conf',
    '--log-facility=-',
  ]);
});

test('a dnsmasq that refuses its file: start() rejects with its words, bounded, and nothing keeps running', async (t) => {
  if (!needs(t, { dnsmasq: haveCommand('dnsmasq') })) return;
  const dir = mkdtempSync(join(tmpdir(), 'moat-dnsmasq-sup-'));
  try {
    const conf = join(dir, 'bad.conf');
    writeFileSync(conf, 'dhcp-range=nonsense\n');
    const s = superviseDnsmasq({ configFile: conf, maxLogLines: 1 });
    await assert.rejects(s.start(), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_PORTAL_DNSMASQ_START' && /bad dhcp-range|nonsense/i.test(e.message));
    assert.equal(s.running, false);
    assert.ok(s.log().length <= 1);
    assert.equal(s.restarts, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing dnsmasq program is MOAT_PORTAL_DNSMASQ_EXEC', async () => {
  const s = superviseDnsmasq({ configFile: '/nonexistent.conf', dnsmasq: '/nonexistent/dnsmasq' });
  await assert.rejects(s.start(), (e: unknown) => e instanceof MoatError && e.code === 'MOAT_PORTAL_DNSMASQ_EXEC');
  assert.equal(s.running, false);
});
