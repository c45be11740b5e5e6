import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Logger, runCommand } from '../../src/core/index.js';
import { Gateway } from '../../src/portal/gateway.js';
import { main } from '../../src/portal/index.js';
import { PortalMetrics } from '../../src/portal/metrics.js';
import { parsePortalConfig } from '../../src/portal/portal-config.js';
import { QueryServer } from '../../src/portal/query-server.js';
import { SessionStore } from '../../src/portal/session-store.js';
import { captureIo } from '../helpers/io.js';
import { MemoryFirewall, RecordingRadius } from './memory-peers.js';

test('moat portal query: list, show, authorize, logout, garden over a 0660 unix socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-portal-query-'));
  const sock = join(dir, 'q.sock');
  const settings = parsePortalConfig(
    `nas-id: gw1\ninterface: veth0\naddress: 10.1.0.1/24\nradius:\n  servers: [{ host: 10.9.0.2, secret: testing123456 }]\ngarden:\n  domains: [example.org]\n  addresses: [192.0.2.7]\n`,
    'p.yaml',
  );
  const fw = new MemoryFirewall();
  const radius = new RecordingRadius(() => ({ accepted: false, policy: {} }));
  const gateway = new Gateway({ radius, firewall: fw, store: new SessionStore(dir), logger: new Logger({ appName: 'test' }), metrics: new PortalMetrics(), defaults: { sessionTimeout: 0, idleTimeout: 0, interimInterval: 600 }, calledStationId: 'gw1' });
  const neighbour = { ip: '10.1.0.20', mac: '02:00:00:00:00:20', ifname: 'veth0' };
  const lookup = {
    lookup: (ip: string) => Promise.resolve(ip === neighbour.ip ? { ifname: neighbour.ifname, mac: neighbour.mac, ipv4: ip } : undefined),
    neighbours: () => Promise.resolve([neighbour]),
  };
  const server = new QueryServer({ gateway, lookup, logger: new Logger({ appName: 'test' }), settings: () => settings });
  await server.listen(sock, undefined);
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(statSync(sock).mode & 0o777, 0o660);
  const q = async (...args: string[]) => {
    const io = captureIo();
    const code = await runCommand('moat portal', () => main(['query', '-S', sock, ...args], io), io);
    return { code, out: io.out(), err: io.err() };
  };
  assert.deepEqual(await q('list'), { code: 0, out: '', err: '' });
  const auth = await q('authorize', '02-00-00-00-00-20', 'till');
  assert.equal(auth.code, 0, auth.err);
  assert.match(auth.out, /^02:00:00:00:00:20 10\.1\.0\.20 authorized, session [0-9a-f]{16}$/m);
  assert.ok(fw.clients.has('02:00:00:00:00:20'));
  assert.match((await q('list')).out, /^02:00:00:00:00:20 10\.1\.0\.20 pass [0-9a-f]{16} admin till 0\/0 0 0$/m);
  assert.match((await q('show', '10.1.0.20')).out, /^user=till$/m);
  assert.deepEqual(await q('show', '10.1.0.99'), { code: 1, out: '', err: 'moat portal query: no session for 10.1.0.99\n' });
  assert.equal((await q('logout', '10.1.0.20')).code, 0);
  assert.equal(fw.clients.size, 0);
  assert.equal(radius.acct.at(-1)?.terminateCause, 6);
  assert.equal((await q('garden')).out, 'example.org\n192.0.2.7\n');
  const bad = await q('frob');
  assert.equal(bad.code, 64);
  const gone = await q('-S', join(dir, 'none.sock'), 'list');
  assert.equal(gone.code, 69);
  assert.match(gone.err, /cannot reach the daemon at .*none\.sock: No such file or directory/);
});
