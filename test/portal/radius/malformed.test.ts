// Malformed datagrams: the decoder throws only MOAT_PORTAL_RADIUS_MALFORMED,
// and the CoA listener drops them with an error code, never throws, and goes
// on answering good requests (issue 13, acceptance 10).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { rng as seeded, int } from '../../helpers/rng.js';

/** A seeded generator with an inclusive int(lo, hi). */
function makeRng(seed: number) {
  const r = seeded(seed);
  return { int: (lo: number, hi: number): number => lo + int(r, hi - lo + 1) };
}
import {
  CODE, attr, decodePacket, signRequest, startCoaListener, RADIUS_ERROR, decodeValue, attributeByNumber,
  type CoaEvent, type CoaListener,
} from '../../../src/portal/radius/index.js';
import { MoatError } from '../../../src/core/index.js';

const SECRET = Buffer.from('fuzz-secret');

function disconnect(identifier: number, extra: ReturnType<typeof attr>[] = []): Buffer {
  return signRequest(
    { code: CODE.disconnectRequest, identifier, authenticator: Buffer.alloc(16), attributes: [{ type: 80, value: Buffer.alloc(16) }, attr('Acct-Session-Id', 'SESS-1'), ...extra] },
    SECRET,
  );
}

function header(code: number, id: number, length: number): Buffer {
  const b = Buffer.alloc(20);
  b[0] = code;
  b[1] = id;
  b.writeUInt16BE(length, 2);
  return b;
}

describe('decodePacket on malformed input', () => {
  const cases: [string, Buffer][] = [
    ['an empty datagram', Buffer.alloc(0)],
    ['19 octets', Buffer.alloc(19)],
    ['length field 19', header(1, 1, 19)],
    ['length field 4097', Buffer.concat([header(1, 1, 4097), Buffer.alloc(4077)])],
    ['length field past the datagram', header(1, 1, 40)],
    ['an attribute of length 0', Buffer.concat([header(1, 1, 22), Buffer.from([1, 0])])],
    ['an attribute of length 1', Buffer.concat([header(1, 1, 22), Buffer.from([1, 1])])],
    ['an attribute running past the end', Buffer.concat([header(1, 1, 24), Buffer.from([1, 10, 65, 66])])],
    ['a lone attribute type octet', Buffer.concat([header(1, 1, 21), Buffer.from([1])])],
    ['a 15-octet Message-Authenticator', Buffer.concat([header(1, 1, 37), Buffer.from([80, 17]), Buffer.alloc(15)])],
  ];
  for (const [what, buf] of cases) {
    it(`rejects ${what} with MOAT_PORTAL_RADIUS_MALFORMED`, () => {
      assert.throws(() => decodePacket(buf), (e: unknown) => e instanceof MoatError && e.code === RADIUS_ERROR.malformed);
    });
  }

  it('ignores octets past the length field (RFC 2865 §3 padding)', () => {
    const good = disconnect(9);
    const p = decodePacket(Buffer.concat([good, randomBytes(100)]));
    assert.equal(p.identifier, 9);
    assert.equal(p.attributes.length, 2);
  });

  it('keeps a Vendor-Specific attribute that is not in the suggested format as raw type 26', () => {
    const vsa = Buffer.from([26, 9, 0, 0, 0x37, 0x2a, 7, 9, 1]); // sub-attribute length 9 overruns
    const p = decodePacket(Buffer.concat([header(2, 1, 29), vsa]));
    assert.deepEqual(p.attributes, [{ type: 26, value: vsa.subarray(2) }]);
  });

  it('10,000 random datagrams and 10,000 mutations of a good one: only MOAT_PORTAL_RADIUS_MALFORMED is ever thrown, typed reads only BAD_ATTRIBUTE', () => {
    const rng = makeRng(0x5eed);
    const good = disconnect(1, [attr('Framed-IP-Address', '10.1.0.2'), attr('WISPr-Bandwidth-Max-Down', 1000), attr('Framed-IPv6-Prefix', '2001:db8::/32')]);
    let decoded = 0;
    for (let i = 0; i < 20_000; i++) {
      let buf: Buffer;
      if (i < 10_000) {
        buf = Buffer.alloc(rng.int(0, 4200));
        for (let j = 0; j < buf.length; j++) buf[j] = rng.int(0, 255);
      } else {
        buf = Buffer.from(good);
        for (let k = rng.int(1, 4); k > 0; k--) buf[rng.int(0, buf.length - 1)] = rng.int(0, 255);
        if (rng.int(0, 3) === 0) buf = buf.subarray(0, rng.int(0, buf.length));
      }
      try {
        const p = decodePacket(buf);
        decoded++;
        for (const a of p.attributes) {
          const def = attributeByNumber(a.type, a.vendor);
          if (def === undefined) continue;
          try {
            decodeValue(def, a.value);
          } catch (e) {
            assert.ok(e instanceof MoatError && e.code === RADIUS_ERROR.badAttribute, String(e));
          }
        }
      } catch (e) {
        assert.ok(e instanceof MoatError && e.code === RADIUS_ERROR.malformed, String(e));
      }
    }
    assert.ok(decoded > 0, 'some mutations still decode');
  });
});

describe('the CoA listener under malformed and hostile datagrams', () => {
  let listener: CoaListener | undefined;
  let sock: Socket | undefined;
  const events: CoaEvent[] = [];
  let calls = 0;
  const replies: Buffer[] = [];

  before(async () => {
    listener = await startCoaListener({ host: '127.0.0.1', port: 0, clients: [{ address: '127.0.0.1', secret: SECRET.toString() }], onEvent: (e) => events.push(e) }, async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { ack: true };
    });
    const s = createSocket('udp4');
    s.on('message', (m) => replies.push(m));
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    sock = s;
  });
  after(async () => {
    await listener?.close();
    await new Promise<void>((resolve) => {
      if (sock === undefined) resolve();
      else sock.close(() => { resolve(); });
    });
  });

  const send = (b: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      sock?.send(b, listener?.port ?? 0, '127.0.0.1', (e) => {
        if (e === null) resolve();
        else reject(e);
      });
    });
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

  it('drops bad lengths, truncated attributes and 4096 octets of noise with MALFORMED, and answers none of them', async () => {
    const start = events.length;
    const noise = randomBytes(4096);
    noise.writeUInt16BE(5000, 2); // make sure the length field is out of range, not a lucky packet
    for (const b of [Buffer.alloc(0), Buffer.alloc(19), header(40, 1, 19), header(40, 1, 4097), header(40, 1, 60), Buffer.concat([header(40, 2, 23), Buffer.from([44, 9, 65])]), noise]) {
      await send(b);
    }
    await settle();
    const got = events.slice(start);
    assert.equal(got.length, 7);
    assert.ok(got.every((e) => e.type === 'drop' && e.code === RADIUS_ERROR.malformed), JSON.stringify(got));
    assert.equal(replies.length, 0);
    assert.equal(calls, 0);
  });

  it('drops a bad Request Authenticator, a bad Message-Authenticator and a wrong packet code with their own codes', async () => {
    const start = events.length;
    const forged = disconnect(3);
    forged[10] = (forged[10] ?? 0) ^ 1; // the Request Authenticator
    await send(forged);
    const badMa = disconnect(4);
    const ma = badMa.indexOf(Buffer.from([80, 18])) + 2;
    badMa[ma] = (badMa[ma] ?? 0) ^ 1;
    // Re-sign the request authenticator over the altered Message-Authenticator, so only the latter is wrong.
    badMa.fill(0, 4, 20);
    const { createHash } = await import('node:crypto');
    createHash('md5').update(badMa).update(SECRET).digest().copy(badMa, 4);
    await send(badMa);
    await send(signRequest({ code: CODE.accessRequest, identifier: 5, authenticator: randomBytes(16), attributes: [attr('User-Name', 'x')] }, SECRET));
    await settle();
    assert.deepEqual(
      events.slice(start).map((e) => (e.type === 'drop' ? [e.code, e.reason] : [e.type])),
      [
        [RADIUS_ERROR.badAuthenticator, 'bad Request Authenticator'],
        [RADIUS_ERROR.badAuthenticator, 'bad Message-Authenticator'],
        [RADIUS_ERROR.unexpectedCode, 'Access-Request on the CoA port'],
      ],
    );
    assert.equal(replies.length, 0);
  });

  it('NAKs an attribute of the wrong size with 407 Invalid-Attribute-Value without calling the handler', async () => {
    replies.length = 0;
    await send(disconnect(6, [{ type: 8, value: Buffer.from([10, 1, 0]) }]));
    await settle();
    const r = replies[0];
    assert.ok(r !== undefined);
    const p = decodePacket(r);
    assert.equal(p.code, CODE.disconnectNak);
    assert.equal(p.attributes.find((a) => a.type === 101)?.value.readUInt32BE(0), 407);
    assert.equal(calls, 0);
  });

  it('answers a retransmission with the same reply, calling the handler once', async () => {
    replies.length = 0;
    const req = disconnect(7);
    await send(req);
    await settle();
    await send(req);
    await settle();
    assert.equal(replies.length, 2);
    assert.deepEqual(replies[1], replies[0]);
    assert.equal(decodePacket(replies[0] ?? Buffer.alloc(0)).code, CODE.disconnectAck);
    assert.equal(calls, 1);
    assert.equal(listener?.stats().duplicates, 1);
  });

  it('after 2,000 random and mutated datagrams it still answers a good request', async () => {
    const rng = makeRng(7);
    const good = disconnect(8);
    for (let i = 0; i < 2000; i++) {
      const b = i % 2 === 0 ? randomBytes(rng.int(0, 4096)) : Buffer.from(good);
      if (i % 2 === 1) b[rng.int(0, b.length - 1)] = rng.int(0, 255);
      await send(b);
    }
    await settle();
    replies.length = 0;
    const before = calls;
    await send(disconnect(200));
    await settle();
    assert.equal(replies.length, 1);
    assert.equal(decodePacket(replies[0] ?? Buffer.alloc(0)).code, CODE.disconnectAck);
    assert.ok(calls > before);
  });
});
