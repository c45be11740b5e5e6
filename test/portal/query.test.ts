import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
import { isRoot, needs, repoRoot } from '../helpers/system.js';
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

/** `moat portal query` as another user: uid nobody with only the given primary group (spawn drops supplementary groups). */
function queryAs(sock: string, gid: number): Promise<{ status: number; stdout: string; stderr: string }> {
  // Not spawnSync: the server answering is in this process.
  const c = spawn(process.execPath, [join(repoRoot, 'dist', 'bin', 'moat.js'), 'portal', 'query', '-S', sock, 'list'], { uid: 65534, gid, timeout: 15_000 });
  let stdout = '';
  let stderr = '';
  c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => c.once('close', (code) => { resolve({ status: code ?? -1, stdout, stderr }); }));
}

function gidOf(name: string): number | undefined {
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const gid = line?.split(':')[2];
  return gid === undefined ? undefined : Number(gid);
}

test("the query socket: root and the named group's members may ask; others get permission denied (exit 77); without a group, root only", async (t) => {
  const nogroup = gidOf('nogroup');
  const daemonGroup = gidOf('daemon');
  if (!needs(t, { root: isRoot, "groups 'nogroup' and 'daemon' (Debian base)": nogroup !== undefined && daemonGroup !== undefined })) return;
  const dir = mkdtempSync(join(tmpdir(), 'moat-portal-qgroup-'));
  chmodSync(dir, 0o711); // the socket's mode decides, not the directory's
  const settings = parsePortalConfig(`nas-id: gw1\ninterface: veth0\naddress: 10.1.0.1/24\nradius:\n  servers: [{ host: 10.9.0.2, secret: testing123456 }]\n`, 'p.yaml');
  const gateway = new Gateway({ radius: new RecordingRadius(() => ({ accepted: false, policy: {} })), firewall: new MemoryFirewall(), store: new SessionStore(dir), logger: new Logger({ appName: 'test' }), metrics: new PortalMetrics(), defaults: { sessionTimeout: 0, idleTimeout: 0, interimInterval: 600 }, calledStationId: 'gw1' });
  const lookup = { lookup: () => Promise.resolve(undefined), neighbours: () => Promise.resolve([]) };
  const servers: QueryServer[] = [];
  t.after(async () => {
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (name: string, group: string | undefined): Promise<string> => {
    const s = new QueryServer({ gateway, lookup, logger: new Logger({ appName: 'test' }), settings: () => settings });
    servers.push(s);
    const sock = join(dir, name);
    await s.listen(sock, group);
    return sock;
  };

  const grouped = await start('grouped.sock', 'nogroup');
  const st = statSync(grouped);
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.gid, nogroup);
  assert.deepEqual(await queryAs(grouped, nogroup ?? 0), { status: 0, stdout: '', stderr: '' }, 'a member of the group');
  const other = await queryAs(grouped, daemonGroup ?? 0);
  assert.equal(other.status, 77, other.stderr);
  assert.match(other.stderr, /^moat portal: cannot reach the daemon at .*grouped\.sock: permission denied/);

  const rootOnly = await start('root.sock', undefined);
  assert.equal(statSync(rootOnly).gid, 0);
  assert.equal((await queryAs(rootOnly, nogroup ?? 0)).status, 77, 'no group: nobody else');
  const io = captureIo();
  assert.equal(await runCommand('moat portal', () => main(['query', '-S', rootOnly, 'list'], io), io), 0, io.err());

  await assert.rejects(start('bad.sock', 'no-such-group-moat'), /no group 'no-such-group-moat' in \/etc\/group/);
});
