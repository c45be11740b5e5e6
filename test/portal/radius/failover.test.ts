// Retransmission and failover against real FreeRADIUS servers: a lost first
// datagram is retransmitted byte for byte, a server that stops is left for
// the second one, and noise or forged replies on the client's socket are
// ignored.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { needs } from '../../helpers/system.js';
import { freeradiusRequirements, freeUdpPort, startFreeradius } from '../../helpers/freeradius.js';
import {
  RadiusClient, CODE, decodePacket, messageAuthenticatorPlaceholder, signResponse, type RadiusClientEvent,
} from '../../../src/portal/radius/index.js';

const SECRET = `fo-${randomBytes(4).toString('hex')}`;
const USERS = [{ name: 'carol', password: 'c4rol' }];
const pap = { credentials: { kind: 'pap' as const, userName: 'carol', password: 'c4rol' }, callingStationId: '02:00:00:00:00:07' };

/**
 * A UDP relay in front of a server that drops the datagrams `drop` picks and,
 * before each reply, first sends the client `noise` datagrams.
 */
async function relay(upstreamPort: number, drop: (n: number) => boolean, noise: (reply: Buffer) => Buffer[]) {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  const seen: Buffer[] = [];
  let client: RemoteInfo | undefined;
  front.on('message', (msg, rinfo) => {
    seen.push(msg);
    client = rinfo;
    if (!drop(seen.length)) back.send(msg, upstreamPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    if (client === undefined) return;
    for (const n of noise(msg)) front.send(n, client.port, client.address);
    front.send(msg, client.port, client.address);
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', resolve));
  return {
    port: front.address().port,
    seen,
    close: async () => {
      await new Promise<void>((resolve) => front.close(() => { resolve(); }));
      await new Promise<void>((resolve) => back.close(() => { resolve(); }));
    },
  };
}

describe('RADIUS client retransmission and failover', () => {
  it('retransmits the same datagram (same identifier and authenticator) when the first is lost, and ignores noise and forged replies', async (t) => {
    if (!needs(t, freeradiusRequirements())) return;
    const fr = await startFreeradius({ secret: SECRET, users: USERS });
    const forged = (reply: Buffer): Buffer[] => {
      const bad = Buffer.from(reply);
      bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0x55; // breaks the Response Authenticator
      return [randomBytes(4096), Buffer.from([2, reply[1] ?? 0, 0, 10]), bad];
    };
    const r = await relay(fr.authPort, (n) => n === 1, forged);
    const events: RadiusClientEvent[] = [];
    const c = new RadiusClient({
      servers: [{ host: '127.0.0.1', authPort: r.port, secret: SECRET }],
      nasIdentifier: 'moat-test', timeoutMs: 250, retries: 2, onEvent: (e) => events.push(e),
    });
    try {
      const res = await c.authenticate(pap);
      assert.equal(res.accepted, true);
      assert.equal(r.seen.length, 2);
      assert.deepEqual(r.seen[1], r.seen[0], 'the retransmission is the same datagram');
      const s = c.stats();
      assert.equal(s.retransmits, 1);
      assert.equal(s.timeouts, 1);
      assert.equal(s.invalidResponses, 3);
      assert.deepEqual(events.map((e) => e.type), ['timeout', 'retransmit', 'invalid-response', 'invalid-response', 'invalid-response', 'response']);
      assert.equal(s.rttCount, 1);
    } finally {
      await c.close();
      await r.close();
      await fr.stop();
    }
  });

  it('fails over to the second server when the first is down, and keeps using it', async (t) => {
    if (!needs(t, freeradiusRequirements())) return;
    const first = await startFreeradius({ secret: SECRET, users: USERS });
    const second = await startFreeradius({ secret: SECRET, users: USERS });
    const events: RadiusClientEvent[] = [];
    const c = new RadiusClient({
      servers: [
        { host: '127.0.0.1', authPort: first.authPort, acctPort: first.acctPort, secret: SECRET },
        { host: '127.0.0.1', authPort: second.authPort, acctPort: second.acctPort, secret: SECRET },
      ],
      nasIdentifier: 'moat-test', timeoutMs: 200, retries: 1, onEvent: (e) => events.push(e),
    });
    try {
      const a = await c.authenticate(pap);
      assert.equal(a.server, `127.0.0.1:${String(first.authPort)}`);
      await first.stop();
      const b = await c.authenticate(pap);
      assert.equal(b.accepted, true);
      assert.equal(b.server, `127.0.0.1:${String(second.authPort)}`);
      assert.deepEqual(
        events.slice(1).map((e) => e.type),
        ['timeout', 'retransmit', 'timeout', 'failover', 'response'],
      );
      assert.deepEqual(events.find((e) => e.type === 'failover'), {
        type: 'failover', kind: 'auth', from: `127.0.0.1:${String(first.authPort)}`, to: `127.0.0.1:${String(second.authPort)}`,
      });
      // The dead server is skipped now: the next request goes straight to the second.
      const before = c.stats();
      const acct = await c.accounting({ statusType: 'start', acctSessionId: 'FO-1', userName: 'carol' });
      assert.equal(acct.server, `127.0.0.1:${String(second.acctPort)}`);
      assert.equal(c.stats().timeouts, before.timeouts);
      const recs = await second.detailRecords();
      assert.ok(recs.some((rec) => rec.get('Acct-Session-Id')?.[0] === 'FO-1'));
    } finally {
      await c.close();
      await first.stop();
      await second.stop();
    }
  });

  it('300 requests at once on a fresh client: every one is answered by freeradius', async (t) => {
    if (!needs(t, freeradiusRequirements())) return;
    const fr = await startFreeradius({ secret: SECRET, users: USERS });
    const c = new RadiusClient({
      servers: [{ host: '127.0.0.1', authPort: fr.authPort, acctPort: fr.acctPort, secret: SECRET }],
      // freeradius' receive buffer drops part of such a burst (RcvbufErrors): the retransmissions recover them.
      nasIdentifier: 'moat-test', timeoutMs: 1000, retries: 3,
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 300 }, () => c.authenticate(pap).then((r) => r.accepted)),
      );
      assert.equal(results.filter(Boolean).length, 300);
      const s = c.stats();
      assert.equal(s.responses, 300);
      assert.equal(s.outstanding, 0);
    } finally {
      await c.close();
      await fr.stop();
    }
  });

  it('more than 256 requests outstanding to one server go out on a second source port, never two with one (port, Identifier)', async () => {
    const srv = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
    // Requests by (source port, Identifier); retransmissions of one request share its key.
    const held = new Map<string, { msg: Buffer; rinfo: RemoteInfo }>();
    let answering = false;
    await new Promise<void>((resolve) => srv.bind(0, '127.0.0.1', resolve));
    const N = 300;
    const answer = (msg: Buffer, rinfo: RemoteInfo): void => {
      const req = decodePacket(msg);
      const reply = signResponse(
        { code: CODE.accessAccept, identifier: req.identifier, authenticator: req.authenticator, attributes: [messageAuthenticatorPlaceholder()] },
        req.authenticator, Buffer.from(SECRET),
      );
      srv.send(reply, rinfo.port, rinfo.address);
    };
    srv.on('message', (msg, rinfo) => {
      const key = `${String(rinfo.port)}/${String(msg[1])}`;
      const old = held.get(key);
      // The same key with another datagram would be an Identifier reused while outstanding.
      assert.ok(old === undefined || old.msg.equals(msg), `identifier ${key} reused while outstanding`);
      held.set(key, { msg, rinfo });
      if (answering) answer(msg, rinfo);
      else if (held.size === N) {
        // All N outstanding at once: now answer every one.
        answering = true;
        for (const h of held.values()) answer(h.msg, h.rinfo);
      }
    });
    const c = new RadiusClient({ servers: [{ host: '127.0.0.1', authPort: srv.address().port, secret: SECRET }], nasIdentifier: 'n', timeoutMs: 1000, retries: 4 });
    try {
      const results = await Promise.all(Array.from({ length: N }, () => c.authenticate(pap)));
      assert.ok(results.every((r) => r.accepted));
      assert.equal(held.size, N);
      assert.equal(new Set([...held.values()].map((h) => h.rinfo.port)).size, 2);
    } finally {
      await c.close();
      await new Promise<void>((resolve) => { srv.close(() => { resolve(); }); });
    }
  });

  it('past maxSockets × 256 outstanding and maxOutstanding waiting, a request is refused with MOAT_PORTAL_RADIUS_BUSY', async () => {
    const c = new RadiusClient({
      servers: [{ host: '127.0.0.1', authPort: await freeUdpPort(), secret: SECRET }], nasIdentifier: 'n', timeoutMs: 2000, retries: 0, maxSockets: 1, maxOutstanding: 2,
    });
    const all = Array.from({ length: 259 }, () => c.authenticate(pap).then(() => 'ok', (e: unknown) => (e as { code?: string }).code));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await c.close();
    const codes = await Promise.all(all);
    assert.equal(codes.filter((x) => x === 'MOAT_PORTAL_RADIUS_BUSY').length, 1);
    assert.equal(codes.filter((x) => x === 'MOAT_PORTAL_RADIUS_CLOSED').length, 258);
  });

  it('rejects with MOAT_PORTAL_RADIUS_TIMEOUT when no server answers, after every try to every server', async () => {
        const dead1 = await freeUdpPort();
    const dead2 = await freeUdpPort();
    const c = new RadiusClient({
      servers: [{ host: '127.0.0.1', authPort: dead1, secret: SECRET }, { host: '127.0.0.1', authPort: dead2, secret: SECRET }],
      nasIdentifier: 'moat-test', timeoutMs: 100, retries: 2,
    });
    try {
      const t0 = performance.now();
      await assert.rejects(c.authenticate(pap), { code: 'MOAT_PORTAL_RADIUS_TIMEOUT' });
      assert.ok(performance.now() - t0 >= 550, '2 servers × 3 tries × 100 ms');
      assert.deepEqual({ ...c.stats(), rttSumMs: 0 }, {
        requests: 1, responses: 0, retransmits: 4, timeouts: 6, failures: 1, failovers: 1, invalidResponses: 0, outstanding: 0, rttSumMs: 0, rttCount: 0,
      });
    } finally {
      await c.close();
    }
  });

  it('close() rejects a pending request with MOAT_PORTAL_RADIUS_CLOSED', async () => {
        const c = new RadiusClient({ servers: [{ host: '127.0.0.1', authPort: await freeUdpPort(), secret: SECRET }], nasIdentifier: 'n', timeoutMs: 5000 });
    const p = c.authenticate(pap);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await c.close();
    await assert.rejects(p, { code: 'MOAT_PORTAL_RADIUS_CLOSED' });
  });
});

describe('RADIUS client over IPv6', () => {
  it('talks to a server given as a long-form IPv6 address and matches its replies', async () => {
    const srv = createSocket('udp6');
    await new Promise<void>((resolve) => srv.bind(0, '::1', resolve));
    srv.on('message', (msg, rinfo) => {
      const req = decodePacket(msg);
      srv.send(signResponse({ code: CODE.accessReject, identifier: req.identifier, authenticator: req.authenticator, attributes: [messageAuthenticatorPlaceholder()] },
        req.authenticator, Buffer.from(SECRET)), rinfo.port, rinfo.address);
    });
    const c = new RadiusClient({ servers: [{ host: '0:0:0:0:0:0:0:1', authPort: srv.address().port, secret: SECRET }], nasIdentifier: 'n', timeoutMs: 500, retries: 0 });
    try {
      const r = await c.authenticate(pap);
      assert.equal(r.accepted, false);
      assert.equal(r.server, `[0:0:0:0:0:0:0:1]:${String(srv.address().port)}`);
    } finally {
      await c.close();
      await new Promise<void>((resolve) => { srv.close(() => { resolve(); }); });
    }
  });
});
