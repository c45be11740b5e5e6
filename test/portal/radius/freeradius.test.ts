// The RADIUS client against Debian's FreeRADIUS: PAP and CHAP, the policy
// attributes of an Access-Accept, Message-Authenticator both ways, and
// accounting records in FreeRADIUS' detail file.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { needs } from '../../helpers/system.js';
import { freeradiusRequirements, startFreeradius, type Freeradius } from '../../helpers/freeradius.js';
import { RadiusClient, chapResponse, RADIUS_ERROR, type RadiusClientEvent, type RadiusClientOptions } from '../../../src/portal/radius/index.js';
import { MoatError } from '../../../src/core/index.js';

const SECRET = `s3cret-${randomBytes(4).toString('hex')}`;
const GIB4 = 1n << 32n;

// ChilliSpot gigawords attributes are CoovaChilli's; Debian's dictionary.chillispot lacks them.
const CHILLI_GIGAWORDS = `BEGIN-VENDOR ChilliSpot
ATTRIBUTE	ChilliSpot-Max-Input-Gigawords	21	integer
ATTRIBUTE	ChilliSpot-Max-Output-Gigawords	22	integer
ATTRIBUTE	ChilliSpot-Max-Total-Gigawords	23	integer
END-VENDOR ChilliSpot`;

const USERS = [
  {
    name: 'alice',
    password: 'wonderland',
    reply: [
      'Session-Timeout = 3600',
      'Idle-Timeout = 600',
      'Acct-Interim-Interval = 60',
      'WISPr-Bandwidth-Max-Up = 1000000',
      'WISPr-Bandwidth-Max-Down = 2000000',
      'WISPr-Redirection-URL = "http://example.org/welcome"',
      'WISPr-Session-Terminate-Time = "2030-01-02T03:04:05Z"',
      'Class = "plan-gold"',
      'ChilliSpot-Max-Total-Octets = 5',
      'ChilliSpot-Max-Total-Gigawords = 2',
      'ChilliSpot-Max-Input-Octets = 1000',
      'Reply-Message = "welcome alice"',
    ],
  },
  { name: 'bob', password: 'builder' },
];

function client(fr: Freeradius, extra: Partial<RadiusClientOptions> = {}): RadiusClient {
  return new RadiusClient({
    servers: [{ host: '127.0.0.1', authPort: fr.authPort, acctPort: fr.acctPort, secret: SECRET }],
    nasIdentifier: 'moat-test-nas',
    nasIpAddress: '127.0.0.1',
    calledStationId: '02-00-00-00-00-01:moat',
    timeoutMs: 1000,
    retries: 1,
    ...extra,
  });
}

const pap = (userName: string, password: string) => ({
  credentials: { kind: 'pap' as const, userName, password },
  callingStationId: 'aa:bb:cc:00:11:22',
  framedIpAddress: '10.1.0.23',
  acctSessionId: 'S-PAP-1',
});

describe('RADIUS client against FreeRADIUS (requests must carry a valid Message-Authenticator)', () => {
  let fr: Freeradius | undefined;
  before(async () => {
    if (!Object.values(freeradiusRequirements()).every(Boolean)) return;
    fr = await startFreeradius({ secret: SECRET, users: USERS, requireMessageAuthenticator: true, dictionary: CHILLI_GIGAWORDS });
  });
  after(async () => {
    await fr?.stop();
  });

  it('PAP: accepts the right password and maps the reply to a session policy', async (t) => {
    if (!needs(t, freeradiusRequirements()) || fr === undefined) return;
    const c = client(fr);
    try {
      const r = await c.authenticate(pap('alice', 'wonderland'));
      assert.equal(r.accepted, true, fr.output().slice(-3000));
      assert.equal(r.replyMessage, 'welcome alice');
      assert.deepEqual(r.policy, {
        sessionTimeout: 3600,
        idleTimeout: 600,
        interimInterval: 60,
        bandwidthUp: 1_000_000,
        bandwidthDown: 2_000_000,
        terminateTime: new Date('2030-01-02T03:04:05Z'),
        redirectionUrl: 'http://example.org/welcome',
        class: [Buffer.from('plan-gold')],
        maxInputOctets: 1000n,
        maxTotalOctets: 2n * GIB4 + 5n,
      });
      assert.ok(r.rttMs >= 0 && r.rttMs < 1000);
      assert.equal(c.stats().responses, 1);
    } finally {
      await c.close();
    }
  });

  it('PAP: a wrong password and an unknown user are rejected', async (t) => {
    if (!needs(t, freeradiusRequirements()) || fr === undefined) return;
    const c = client(fr);
    try {
      assert.equal((await c.authenticate(pap('alice', 'wonderlanD'))).accepted, false);
      assert.equal((await c.authenticate(pap('mallory', 'x'))).accepted, false);
      const r = await c.authenticate(pap('bob', 'builder'));
      assert.equal(r.accepted, true);
      assert.deepEqual(r.policy, {});
    } finally {
      await c.close();
    }
  });

  it('PAP: a 100-octet password (seven hiding blocks) survives the round trip', async (t) => {
    if (!needs(t, freeradiusRequirements()) || fr === undefined) return;
    const long = 'p'.repeat(100);
    const fr2 = await startFreeradius({ secret: SECRET, users: [{ name: 'long', password: long }] });
    const c = client(fr2);
    try {
      assert.equal((await c.authenticate(pap('long', long))).accepted, true, fr2.output().slice(-2000));
      assert.equal((await c.authenticate(pap('long', long.slice(0, 99)))).accepted, false);
    } finally {
      await c.close();
      await fr2.stop();
    }
  });

  it('CHAP: accepts the right response and rejects a wrong one', async (t) => {
    if (!needs(t, freeradiusRequirements()) || fr === undefined) return;
    const c = client(fr);
    try {
      const challenge = randomBytes(16);
      const chap = (password: string, chapId: number) => ({
        credentials: { kind: 'chap' as const, userName: 'alice', chapId, challenge, response: chapResponse(chapId, password, challenge) },
        callingStationId: 'AA-BB-CC-00-11-22',
        framedIpAddress: '10.1.0.23',
      });
      const ok = await c.authenticate(chap('wonderland', 7));
      assert.equal(ok.accepted, true);
      assert.equal(ok.policy.sessionTimeout, 3600);
      assert.equal((await c.authenticate(chap('wonderlan', 7))).accepted, false);
      // A CHAP challenge of another length than 16 goes in CHAP-Challenge just the same.
      const challenge8 = randomBytes(8);
      const r = await c.authenticate({
        credentials: { kind: 'chap', userName: 'bob', chapId: 200, challenge: challenge8, response: chapResponse(200, 'builder', challenge8) },
        callingStationId: 'AA-BB-CC-00-11-22',
      });
      assert.equal(r.accepted, true);
    } finally {
      await c.close();
    }
  });

  it('a wrong shared secret gets no answer: FreeRADIUS drops the bad Message-Authenticator, we time out', async (t) => {
    if (!needs(t, freeradiusRequirements()) || fr === undefined) return;
    const c = new RadiusClient({
      servers: [{ host: '127.0.0.1', authPort: fr.authPort, secret: 'not-the-secret' }],
      nasIdentifier: 'moat-test-nas',
      timeoutMs: 300,
      retries: 1,
    });
    try {
      await assert.rejects(c.authenticate(pap('alice', 'wonderland')), (e: unknown) => e instanceof MoatError && e.code === RADIUS_ERROR.timeout);
      assert.equal(c.stats().timeouts, 2);
      assert.equal(c.stats().failures, 1);
      assert.match(fr.output(), /invalid Message-Authenticator/);
    } finally {
      await c.close();
    }
  });

  it('accounting: Start, Interim-Update and Stop land in the detail file with octets, gigawords, packets and the terminate cause', async (t) => {
    if (!needs(t, freeradiusRequirements()) || fr === undefined) return;
    const c = client(fr);
    const session = `MOAT-${randomBytes(6).toString('hex')}`;
    const base = { acctSessionId: session, userName: 'alice', callingStationId: 'aa:bb:cc:00:11:22', framedIpAddress: '10.1.0.23' };
    try {
      await c.accounting({ statusType: 'on' });
      await c.accounting({ ...base, statusType: 'start', class: [Buffer.from('plan-gold')] });
      await c.accounting({
        ...base, statusType: 'interim', sessionTime: 60, inputOctets: 1234n, outputOctets: 3n * GIB4 + 17n, inputPackets: 10n, outputPackets: 20n,
      });
      const stop = await c.accounting({
        ...base, statusType: 'stop', sessionTime: 125, inputOctets: GIB4 + 99n, outputOctets: 5n * GIB4 + 4242n,
        inputPackets: (1n << 32n) + 7n, outputPackets: 300n, terminateCause: 'Idle-Timeout',
      });
      assert.ok(stop.rttMs >= 0);
      const records = await fr.detailRecords();
      const mine = records.filter((r) => r.get('Acct-Session-Id')?.[0] === session);
      assert.deepEqual(mine.map((r) => r.get('Acct-Status-Type')?.[0]), ['Start', 'Interim-Update', 'Stop']);
      const [start, interim, last] = mine;
      if (start === undefined || interim === undefined || last === undefined) return assert.fail('three records');
      assert.equal(start.get('Class')?.[0], `0x${Buffer.from('plan-gold').toString('hex')}`);
      assert.equal(interim.get('Acct-Input-Octets')?.[0], '1234');
      assert.equal(interim.get('Acct-Input-Gigawords')?.[0], '0');
      assert.equal(interim.get('Acct-Output-Octets')?.[0], '17');
      assert.equal(interim.get('Acct-Output-Gigawords')?.[0], '3');
      assert.equal(interim.get('Acct-Session-Time')?.[0], '60');
      assert.equal(last.get('Acct-Input-Octets')?.[0], '99');
      assert.equal(last.get('Acct-Input-Gigawords')?.[0], '1');
      assert.equal(last.get('Acct-Output-Octets')?.[0], '4242');
      assert.equal(last.get('Acct-Output-Gigawords')?.[0], '5');
      assert.equal(last.get('Acct-Input-Packets')?.[0], '7');
      assert.equal(last.get('Acct-Output-Packets')?.[0], '300');
      assert.equal(last.get('Acct-Session-Time')?.[0], '125');
      assert.equal(last.get('Acct-Terminate-Cause')?.[0], 'Idle-Timeout');
      for (const r of mine) {
        assert.equal(r.get('NAS-Identifier')?.[0], 'moat-test-nas');
        assert.equal(r.get('Calling-Station-Id')?.[0], 'AA-BB-CC-00-11-22');
        assert.equal(r.get('Framed-IP-Address')?.[0], '10.1.0.23');
        assert.equal(r.get('NAS-Port-Type')?.[0], 'Wireless-802.11');
        assert.equal(r.get('User-Name')?.[0], 'alice');
      }
      assert.ok(records.some((r) => r.get('Acct-Status-Type')?.[0] === 'Accounting-On' && r.get('NAS-Identifier')?.[0] === 'moat-test-nas'));
      await c.accounting({ statusType: 'off' });
      const off = (await fr.detailRecords()).filter((r) => r.get('Acct-Status-Type')?.[0] === 'Accounting-Off');
      assert.equal(off.length, 1);
      assert.equal(off[0]?.get('NAS-IP-Address')?.[0], '127.0.0.1');
    } finally {
      await c.close();
    }
  });

  it('Acct-Terminate-Cause is refused outside a Stop record', async (t) => {
    if (!needs(t, freeradiusRequirements()) || fr === undefined) return;
    const c = client(fr);
    try {
      await assert.rejects(
        c.accounting({ statusType: 'interim', acctSessionId: 'x', terminateCause: 'User-Request' }),
        (e: unknown) => e instanceof MoatError && e.code === RADIUS_ERROR.badAttribute,
      );
    } finally {
      await c.close();
    }
  });
});

describe('RADIUS client: replies without a Message-Authenticator (BlastRADIUS)', () => {
  it('are dropped by default and accepted only when requireMessageAuthenticator is false', async (t) => {
    if (!needs(t, freeradiusRequirements())) return;
    const fr = await startFreeradius({ secret: SECRET, users: USERS, replyMessageAuthenticator: false, dictionary: CHILLI_GIGAWORDS });
    const events: RadiusClientEvent[] = [];
    const strict = client(fr, { timeoutMs: 300, retries: 0, onEvent: (e) => events.push(e) });
    const lax = client(fr, { requireMessageAuthenticator: false });
    try {
      await assert.rejects(strict.authenticate(pap('bob', 'builder')), (e: unknown) => e instanceof MoatError && e.code === RADIUS_ERROR.timeout);
      assert.equal(strict.stats().invalidResponses, 1);
      assert.ok(events.some((e) => e.type === 'invalid-response' && e.reason.includes('without Message-Authenticator')));
      assert.equal((await lax.authenticate(pap('bob', 'builder'))).accepted, true);
      // Accounting-Response carries no Message-Authenticator (RFC 2866): never required there.
      await strict.accounting({ statusType: 'start', acctSessionId: 'S1', userName: 'bob' });
    } finally {
      await strict.close();
      await lax.close();
      await fr.stop();
    }
  });
});
