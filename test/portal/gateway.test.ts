// The session logic with an in-memory firewall and a recording RADIUS peer;
// the end-to-end tests (test/portal/e2e) run the same logic against nft and freeradius.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Logger, MoatError } from '../../src/core/index.js';
import { Gateway } from '../../src/portal/gateway.js';
import { PortalMetrics } from '../../src/portal/metrics.js';
import type { AuthRequest, AuthResult, ClientKey } from '../../src/portal/ports.js';
import { MemoryFirewall, RecordingRadius } from './memory-peers.js';
import { SessionStore } from '../../src/portal/session-store.js';

const alice: ClientKey = { ifname: 'veth0', mac: '02:00:00:00:00:01', ipv4: '10.1.0.10' };

function setup(dir: string, fw: MemoryFirewall, radius: RecordingRadius, clock: { t: number }) {
  const store = new SessionStore(dir);
  const gw = new Gateway({
    radius,
    firewall: fw,
    store,
    logger: new Logger({ appName: 'test' }),
    metrics: new PortalMetrics(),
    defaults: { sessionTimeout: 0, idleTimeout: 0, interimInterval: 60 },
    calledStationId: 'gw1',
    now: () => clock.t,
  });
  return { store, gw };
}

/** A state directory for one test, removed after it. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'moat-portal-gw-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const accept = (policy: AuthResult['policy'] = {}) => (r: AuthRequest): AuthResult =>
  r.credentials.kind === 'pap' && r.credentials.password === 'right' ? { accepted: true, policy } : { accepted: false, policy: {}, replyMessage: 'no' };

test('login, interim, restart after a crash, logout: one Start, same id, counters only grow', async (t) => {
  const dir = tempDir(t);
  const fw = new MemoryFirewall();
  const radius = new RecordingRadius(accept());
  const clock = { t: 1_700_000_000_000 };
  const a = setup(dir, fw, radius, clock);

  const bad = await a.gw.login(alice, { kind: 'pap', userName: 'alice', password: 'wrong' });
  assert.equal(bad.ok, false);
  assert.equal(fw.clients.size, 0);

  const r = await a.gw.login(alice, { kind: 'pap', userName: 'alice', password: 'right' });
  assert.ok(r.ok);
  assert.equal(radius.auth[1]?.callingStationId, '02-00-00-00-00-01');
  assert.ok(fw.clients.has(alice.mac));
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(radius.acct.map((x) => x.statusType), ['start']);
  const id = r.session.id;
  assert.equal(radius.acct[0]?.acctSessionId, id);
  // The journal has the session, and no secret or password.
  const journal = readFileSync(join(dir, 'sessions.json'), 'utf8');
  assert.match(journal, new RegExp(id));
  assert.doesNotMatch(journal, /right/);

  fw.traffic(alice.mac, 1000n, 5000n);
  clock.t += 61_000;
  await a.gw.tick();
  const interim = radius.acct.at(-1);
  assert.equal(interim?.statusType, 'interim');
  assert.equal(interim.inputOctets, 1000n);
  assert.equal(interim.outputOctets, 5000n);
  assert.equal(interim.sessionTime, 61);

  // "kill -9": a new store and gateway read the journal; the kernel kept the element.
  fw.traffic(alice.mac, 10n, 20n);
  await a.gw.tick();
  const b = setup(dir, fw, radius, clock);
  assert.equal(await b.store.load(), 1);
  assert.deepEqual(await b.gw.restore(), { kept: 1, readded: 0, dropped: 0 });
  // A firewall reload re-creates the element with zeroed counters: totals still grow.
  const before = radius.acct.length;
  clock.t += 1000;
  await b.gw.tick();
  assert.equal(radius.acct.length, before);
  await fw.authorize(alice, {});
  fw.traffic(alice.mac, 7n, 7n);
  clock.t += 61_000;
  await b.gw.tick();
  const after = radius.acct.slice(before);
  assert.deepEqual(after.map((x) => x.statusType), ['interim']);
  const next = after[0];
  assert.ok(next);
  assert.equal(next.acctSessionId, id);
  assert.equal(next.inputOctets, 1000n + 10n + 7n);
  assert.equal(next.outputOctets, 5000n + 20n + 7n);

  const s = b.store.byMacAddress(alice.mac);
  assert.ok(s);
  await b.gw.logout(s, 1);
  assert.equal(fw.clients.size, 0);
  const stop = radius.acct.at(-1);
  assert.equal(stop?.statusType, 'stop');
  assert.equal(stop.terminateCause, 1);
  assert.equal(radius.acct.filter((x) => x.statusType === 'start').length, 1);
  const c = setup(dir, fw, radius, clock);
  assert.equal(await c.store.load(), 0);
});

test('session timeout, idle timeout and quotas end sessions with the matching cause', async (t) => {
  const dir = tempDir(t);
  const fw = new MemoryFirewall();
  const clock = { t: 1_700_000_000_000 };
  const cases: [AuthResult['policy'], (mac: string) => void, number][] = [
    [{ sessionTimeout: 30 }, () => undefined, 5],
    [{ idleTimeout: 20 }, () => undefined, 4],
    [{ maxTotalOctets: 1000n }, (mac) => {
      fw.traffic(mac, 600n, 600n);
    }, 10],
    [{ terminateTime: new Date(clock.t + 10_000) }, () => undefined, 5],
  ];
  for (const [policy, act, cause] of cases) {
    const radius = new RecordingRadius(accept(policy));
    const { gw } = setup(dir, fw, radius, clock);
    const r = await gw.login(alice, { kind: 'pap', userName: 'alice', password: 'right' });
    assert.ok(r.ok);
    act(alice.mac);
    clock.t += 10_000;
    await gw.tick();
    if (policy.terminateTime === undefined && policy.maxTotalOctets === undefined) {
      assert.ok(fw.clients.has(alice.mac), `still online after 10 s with ${JSON.stringify(policy)}`);
      clock.t += 25_000;
      await gw.tick();
    }
    assert.equal(fw.clients.has(alice.mac), false, JSON.stringify(policy, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    assert.equal(radius.acct.at(-1)?.terminateCause, cause);
  }
});

test('RFC 5176: disconnect by session id, CoA changes limits, unknown session is NAK 503', async (t) => {
  const dir = tempDir(t);
  const fw = new MemoryFirewall();
  const radius = new RecordingRadius(accept({ bandwidthDown: 2_000_000 }));
  const { gw } = setup(dir, fw, radius, { t: 1_700_000_000_000 });
  const r = await gw.login(alice, { kind: 'pap', userName: 'alice', password: 'right' });
  assert.ok(r.ok);
  assert.equal(fw.clients.get(alice.mac)?.limits.bandwidthDown, 2_000_000);
  assert.deepEqual(await gw.dynamic({ kind: 'coa', acctSessionId: 'nope', policy: {} }), { ack: false, errorCause: 503 });
  assert.deepEqual(await gw.dynamic({ kind: 'coa', userName: 'alice', policy: { bandwidthDown: 1_000_000 } }), { ack: true });
  assert.equal(fw.clients.get(alice.mac)?.limits.bandwidthDown, 1_000_000);
  assert.deepEqual(await gw.dynamic({ kind: 'disconnect', acctSessionId: r.session.id, policy: {} }), { ack: true });
  assert.equal(fw.clients.size, 0);
  assert.equal(radius.acct.at(-1)?.terminateCause, 6);
});

test('IPv6 addresses seen with a session MAC join it (once, same interface only) and leave with it', async (t) => {
  const dir = tempDir(t);
  const fw = new MemoryFirewall();
  const radius = new RecordingRadius(accept());
  const a = setup(dir, fw, radius, { t: 1_700_000_000_000 });
  const login = await a.gw.login(alice, { kind: 'pap', userName: 'alice', password: 'right' });
  assert.ok(login.ok);
  const seen = new Map([[alice.mac, ['fd00:1::10', 'fd00:1::11']], ['02:00:00:00:00:99', ['fd00:1::99']]]);
  assert.equal(await a.gw.adoptAddresses('veth1', seen), 0, 'another interface: nothing');
  assert.equal(await a.gw.adoptAddresses('veth0', seen), 2);
  assert.equal(await a.gw.adoptAddresses('veth0', seen), 0, 'already there');
  assert.deepEqual(a.store.byMacAddress(alice.mac)?.client.ipv6, ['fd00:1::10', 'fd00:1::11']);
  assert.deepEqual(fw.clients.get(alice.mac)?.key.ipv6, ['fd00:1::10', 'fd00:1::11']);
  // Journalled: a restart knows them.
  const again = new SessionStore(dir);
  await again.load();
  assert.deepEqual(again.byMacAddress(alice.mac)?.client.ipv6, ['fd00:1::10', 'fd00:1::11']);
  const s = a.store.byMacAddress(alice.mac);
  assert.ok(s);
  const removed: ClientKey[] = [];
  const deauth = fw.deauthorize.bind(fw);
  fw.deauthorize = (k: ClientKey) => {
    removed.push(k);
    return deauth(k);
  };
  await a.gw.logout(s, 1);
  assert.deepEqual(removed[0]?.ipv6, ['fd00:1::10', 'fd00:1::11'], 'the logout takes them out of the firewall too');
});

test('a login whose limits the firewall cannot enforce (a bandwidth under PF) is refused, with no accounting Start', async (t) => {
  const dir = tempDir(t);
  const fw = new MemoryFirewall();
  fw.authorize = () => Promise.reject(new MoatError('MOAT_PORTAL_FW_UNSUPPORTED', 'the PF backend cannot enforce a per-client bandwidth'));
  const radius = new RecordingRadius(accept({ bandwidthDown: 1_000_000 }));
  const a = setup(dir, fw, radius, { t: 1_700_000_000_000 });
  const r = await a.gw.login(alice, { kind: 'pap', userName: 'alice', password: 'right' });
  assert.deepEqual(r, { ok: false, reason: 'error', replyMessage: 'This network cannot apply the limits of your account; ask its operator.' });
  assert.equal(a.store.size, 0);
  assert.equal(radius.acct.length, 0);
});

test('restore after a firewall reload: lost sessions come back with their limits, elements without a session go', async (t) => {
  const dir = tempDir(t);
  const fw = new MemoryFirewall();
  const radius = new RecordingRadius(accept({ bandwidthDown: 2_000_000 }));
  const clock = { t: 1_700_000_000_000 };
  const a = setup(dir, fw, radius, clock);
  const clients = Array.from({ length: 50 }, (_, i): ClientKey => ({ ifname: 'veth0', mac: `02:00:00:00:01:${i.toString(16).padStart(2, '0')}`, ipv4: `10.1.1.${String(i + 10)}` }));
  for (const c of clients) assert.ok((await a.gw.login(c, { kind: 'pap', userName: 'u', password: 'right' })).ok);
  // The table is lost (nft flush ruleset, a reboot); one stranger's element is left from a crash.
  fw.clients.clear();
  const stranger: ClientKey = { ifname: 'veth0', mac: '02:00:00:00:02:01', ipv4: '10.1.2.1' };
  await fw.authorize(stranger, {});
  const b = setup(dir, fw, radius, clock);
  assert.equal(await b.store.load(), 50);
  assert.deepEqual(await b.gw.restore(), { kept: 0, readded: 50, dropped: 1 });
  assert.deepEqual([...fw.clients.keys()].sort(), clients.map((c) => c.mac).sort());
  assert.ok([...fw.clients.values()].every((c) => c.limits.bandwidthDown === 2_000_000));
  // Nothing was sent to RADIUS for the restore: no second Start.
  assert.equal(radius.acct.filter((x) => x.statusType === 'start').length, 50);
});

test('bytes that pass between the creation of the element and the first reading count for the session', async (t) => {
  const dir = tempDir(t);
  // Traffic flows the moment the element exists, before the gateway reads any counter.
  class EagerFirewall extends MemoryFirewall {
    override async authorize(key: ClientKey, limits: Parameters<MemoryFirewall['authorize']>[1]): Promise<void> {
      await super.authorize(key, limits);
      this.traffic(key.mac, 300n, 4000n);
    }
  }
  const fw = new EagerFirewall();
  const radius = new RecordingRadius(accept());
  const clock = { t: 1_700_000_000_000 };
  const a = setup(dir, fw, radius, clock);
  assert.ok((await a.gw.login(alice, { kind: 'pap', userName: 'alice', password: 'right' })).ok);
  fw.traffic(alice.mac, 1n, 2n);
  clock.t += 61_000;
  await a.gw.tick();
  const interim = radius.acct.at(-1);
  assert.equal(interim?.statusType, 'interim');
  assert.equal(interim.inputOctets, 301n);
  assert.equal(interim.outputOctets, 4002n);
});

test('a login while another for the same MAC is under way waits its turn, and the user who typed the right password gets in', async (t) => {
  const dir = tempDir(t);
  // RADIUS answers MAC authentication slowly (a reject), passwords at once.
  class SlowMacRadius extends RecordingRadius {
    override async authenticate(r: AuthRequest): Promise<AuthResult> {
      if (r.credentials.kind === 'mac') await new Promise((res) => setTimeout(res, 50));
      return super.authenticate(r);
    }
  }
  const fw = new MemoryFirewall();
  const radius = new SlowMacRadius(accept());
  const a = setup(dir, fw, radius, { t: 1_700_000_000_000 });
  const mac = a.gw.login(alice, { kind: 'mac', userName: '02-00-00-00-00-01', password: '02-00-00-00-00-01' }, 'mac');
  const user = a.gw.login(alice, { kind: 'pap', userName: 'alice', password: 'right' });
  const again = a.gw.login(alice, { kind: 'pap', userName: 'alice', password: 'right' });
  const [m, u, g] = await Promise.all([mac, user, again]);
  assert.equal(m.ok, false);
  assert.ok(u.ok && g.ok);
  // The double submit sees the session the first one opened: one session, one Start.
  assert.equal(u.session, g.session);
  assert.equal(a.store.size, 1);
  assert.deepEqual(radius.auth.map((r) => r.credentials.kind), ['mac', 'pap']);
  // More than four at once for one MAC: the rest are refused, not queued without end.
  const burst = await Promise.all(Array.from({ length: 6 }, () => a.gw.login(alice, { kind: 'mac', userName: 'x', password: 'x' }, 'mac')));
  assert.equal(burst.filter((r) => !r.ok && r.replyMessage === 'a login for this device is under way').length, 2);
});

test("MAC authentication that waited behind a user's login leaves the user's session as it is", async (t) => {
  const dir = tempDir(t);
  // The device's MAC account is accepted too: only the order decides.
  const radius = new RecordingRadius((r) => ({ accepted: r.credentials.kind === 'mac' || (r.credentials.kind === 'pap' && r.credentials.password === 'right'), policy: {} }));
  const fw = new MemoryFirewall();
  const a = setup(dir, fw, radius, { t: 1_700_000_000_000 });
  const user = a.gw.login(alice, { kind: 'pap', userName: 'alice', password: 'right' });
  const mac = a.gw.login(alice, { kind: 'mac', userName: '02-00-00-00-00-01', password: '02-00-00-00-00-01' }, 'mac');
  const [u, m] = await Promise.all([user, mac]);
  assert.ok(u.ok && m.ok);
  assert.equal(m.session, u.session);
  assert.equal(a.store.byMacAddress(alice.mac)?.userName, 'alice');
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(radius.acct.map((x) => x.statusType), ['start']);
  assert.deepEqual(radius.auth.map((r) => r.credentials.kind), ['pap']);
});
