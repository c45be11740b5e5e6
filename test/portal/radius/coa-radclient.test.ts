// RFC 5176 CoA/Disconnect listener against radclient (Debian's
// freeradius-utils): ACK, NAK with Error-Cause, and silence for a bad secret
// or an unknown peer.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { needs } from '../../helpers/system.js';
import { freeradiusRequirements } from '../../helpers/freeradius.js';
import { startCoaListener, type CoaEvent, type CoaListener, type DynamicRequest } from '../../../src/portal/radius/index.js';

const SECRET = `coa-${randomBytes(4).toString('hex')}`;

interface RadclientResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** radclient, the attribute list on stdin (never through a shell). */
function radclient(args: string[], input: string): Promise<RadclientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (status) => { resolve({ status, stdout, stderr }); });
    child.stdin.end(input);
  });
}

describe('CoA/Disconnect listener against radclient', () => {
  let listener: CoaListener | undefined;
  const seen: DynamicRequest[] = [];
  const events: CoaEvent[] = [];
  // One live session, as the daemon would know it.
  const session = { acctSessionId: 'MOAT-SESS-1', userName: 'alice', callingStationId: 'AA-BB-CC-00-11-22', framedIpAddress: '10.1.0.23' };

  before(async () => {
    if (!Object.values(freeradiusRequirements()).every(Boolean)) return;
    listener = await startCoaListener(
      { host: '127.0.0.1', port: 0, clients: [{ address: '127.0.0.1', secret: SECRET }], nasIdentifier: 'moat-gw-1', onEvent: (e) => events.push(e) },
      async (req) => {
        seen.push(req);
        await Promise.resolve();
        const match =
          req.acctSessionId === session.acctSessionId ||
          req.framedIpAddress === session.framedIpAddress ||
          req.callingStationId === session.callingStationId ||
          (req.userName === session.userName && req.acctSessionId === undefined);
        return match ? { ack: true } : { ack: false, errorCause: 503 };
      },
    );
  });
  after(async () => {
    await listener?.close();
  });

  const target = (): string => `127.0.0.1:${String(listener?.port ?? 0)}`;

  it('Disconnect-Request for a known session: Disconnect-ACK, the handler sees the session attributes', async (t) => {
    if (!needs(t, freeradiusRequirements()) || listener === undefined) return;
    const r = await radclient(['-x', '-t', '2', '-r', '1', target(), 'disconnect', SECRET], 'Acct-Session-Id = "MOAT-SESS-1", User-Name = "alice", NAS-Identifier = "moat-gw-1"\n');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Received Disconnect-ACK/);
    const req = seen.at(-1);
    assert.equal(req?.kind, 'disconnect');
    assert.equal(req.acctSessionId, 'MOAT-SESS-1');
    assert.equal(req.userName, 'alice');
    assert.equal(req.nasIdentifier, 'moat-gw-1');
  });

  it('Disconnect-Request for an unknown session: Disconnect-NAK with Error-Cause 503', async (t) => {
    if (!needs(t, freeradiusRequirements()) || listener === undefined) return;
    const r = await radclient(['-x', '-t', '2', '-r', '1', target(), 'disconnect', SECRET], 'Acct-Session-Id = "NO-SUCH-SESSION"\n');
    assert.match(r.stdout, /Received Disconnect-NAK/, r.stdout + r.stderr);
    assert.match(r.stdout, /Error-Cause = Session-Context-Not-Found/);
  });

  it('CoA-Request by Framed-IP-Address with new bandwidth and Message-Authenticator: CoA-ACK, policy handed over', async (t) => {
    if (!needs(t, freeradiusRequirements()) || listener === undefined) return;
    const r = await radclient(
      ['-x', '-t', '2', '-r', '1', target(), 'coa', SECRET],
      'Framed-IP-Address = 10.1.0.23, Message-Authenticator = 0x00, WISPr-Bandwidth-Max-Down = 2000000, WISPr-Bandwidth-Max-Up = 500000, Session-Timeout = 120\n',
    );
    assert.match(r.stdout, /Received CoA-ACK/, r.stdout + r.stderr);
    const req = seen.at(-1);
    assert.equal(req?.kind, 'coa');
    assert.equal(req.framedIpAddress, '10.1.0.23');
    assert.deepEqual(req.policy, { bandwidthDown: 2_000_000, bandwidthUp: 500_000, sessionTimeout: 120 });
  });

  it('CoA-Request by Calling-Station-Id for no session: CoA-NAK 503', async (t) => {
    if (!needs(t, freeradiusRequirements()) || listener === undefined) return;
    const r = await radclient(['-x', '-t', '2', '-r', '1', target(), 'coa', SECRET], 'Calling-Station-Id = "02-00-00-00-00-99", Idle-Timeout = 30\n');
    assert.match(r.stdout, /Received CoA-NAK/, r.stdout + r.stderr);
    assert.match(r.stdout, /Error-Cause = Session-Context-Not-Found/);
  });

  it('answers without calling the handler: 402 with no session attributes, 401 for an attribute it does not act on, 403 for another NAS', async (t) => {
    if (!needs(t, freeradiusRequirements()) || listener === undefined) return;
    const before = seen.length;
    const missing = await radclient(['-x', '-t', '2', '-r', '1', target(), 'disconnect', SECRET], 'NAS-Identifier = "moat-gw-1"\n');
    assert.match(missing.stdout, /Error-Cause = Missing-Attribute/, missing.stdout + missing.stderr);
    const unsupported = await radclient(['-x', '-t', '2', '-r', '1', target(), 'coa', SECRET], 'Acct-Session-Id = "MOAT-SESS-1", Filter-Id = "guests"\n');
    assert.match(unsupported.stdout, /Received CoA-NAK/);
    assert.match(unsupported.stdout, /Error-Cause = Unsupported-Attribute/);
    const other = await radclient(['-x', '-t', '2', '-r', '1', target(), 'disconnect', SECRET], 'Acct-Session-Id = "MOAT-SESS-1", NAS-Identifier = "moat-gw-2"\n');
    assert.match(other.stdout, /Error-Cause = NAS-Identification-Mismatch/);
    assert.equal(seen.length, before);
  });

  it('a bad secret gets no answer at all (radclient times out) and is reported as a bad authenticator', async (t) => {
    if (!needs(t, freeradiusRequirements()) || listener === undefined) return;
    const before = listener.stats();
    // radclient -r counts tries: two datagrams.
    const r = await radclient(['-x', '-t', '0.5', '-r', '2', target(), 'disconnect', 'wrong-secret'], 'Acct-Session-Id = "MOAT-SESS-1"\n');
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /Received/);
    assert.match(r.stdout + r.stderr, /No reply from server/);
    const after = listener.stats();
    assert.equal(after.acks + after.naks, before.acks + before.naks);
    assert.ok(after.dropped >= before.dropped + 2, 'the first try and the retry are both dropped');
    assert.ok(events.some((e) => e.type === 'drop' && e.code === 'MOAT_PORTAL_RADIUS_BAD_AUTHENTICATOR'));
  });
});

describe('CoA/Disconnect listener: Event-Timestamp from radclient', () => {
  it('a Disconnect-Request stamped an hour ago is dropped (replay), one stamped now is answered', async (t) => {
    if (!needs(t, freeradiusRequirements())) return;
    const events: CoaEvent[] = [];
    const l = await startCoaListener({ host: '127.0.0.1', port: 0, clients: [{ address: '127.0.0.1', secret: SECRET }], onEvent: (e) => events.push(e) }, () =>
      Promise.resolve({ ack: true }),
    );
    try {
      const now = Math.floor(Date.now() / 1000);
      const old = await radclient(['-x', '-t', '0.5', '-r', '1', `127.0.0.1:${String(l.port)}`, 'disconnect', SECRET], `Acct-Session-Id = "x", Event-Timestamp = ${String(now - 3600)}\n`);
      assert.doesNotMatch(old.stdout, /Received/);
      assert.ok(events.some((e) => e.type === 'drop' && e.code === 'MOAT_PORTAL_RADIUS_REPLAY'));
      const fresh = await radclient(['-x', '-t', '2', '-r', '1', `127.0.0.1:${String(l.port)}`, 'disconnect', SECRET], `Acct-Session-Id = "x", Event-Timestamp = ${String(now)}\n`);
      assert.match(fresh.stdout, /Received Disconnect-ACK/, fresh.stdout + fresh.stderr);
    } finally {
      await l.close();
    }
  });
});

describe('CoA/Disconnect listener: unknown peers', () => {
  it('a request from an address that is not a configured client gets no answer', async (t) => {
    if (!needs(t, freeradiusRequirements())) return;
    const events: CoaEvent[] = [];
    let called = 0;
    const l = await startCoaListener({ host: '127.0.0.1', port: 0, clients: [{ address: '192.0.2.1', secret: SECRET }], onEvent: (e) => events.push(e) }, () => {
      called++;
      return Promise.resolve({ ack: true });
    });
    try {
      const r = await radclient(['-x', '-t', '0.5', '-r', '1', `127.0.0.1:${String(l.port)}`, 'disconnect', SECRET], 'Acct-Session-Id = "x"\n');
      assert.notEqual(r.status, 0);
      assert.doesNotMatch(r.stdout, /Received/);
      assert.equal(called, 0);
      assert.ok(events.length >= 1 && events.every((e) => e.type === 'drop' && e.code === 'MOAT_PORTAL_RADIUS_UNKNOWN_PEER'));
    } finally {
      await l.close();
    }
  });
});
