// The codec's pure parts: framing, typed values, hiding, policy mapping,
// accounting attributes and the identifier allocator.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  attr, decodePacket, encodePacket, getText, getInteger, hidePassword, unhidePassword, mapPolicy, macToCallingStationId, RADIUS_ERROR,
  signRequest, signResponse, verifyRequest, verifyResponse, CODE, type RadiusAttribute,
} from '../../../src/portal/radius/index.js';
import { accountingRequestAttributes, accessRequestAttributes } from '../../../src/portal/radius/request-attributes.js';
import { IdAllocator } from '../../../src/portal/radius/id-allocator.js';
import { MoatError } from '../../../src/core/index.js';

const code = (c: string) => (e: unknown) => e instanceof MoatError && e.code === c;

describe('RADIUS framing', () => {
  it('encodes a packet with a standard and a vendor attribute octet for octet', () => {
    const wire = encodePacket({
      code: 1, identifier: 0x2a, authenticator: Buffer.alloc(16, 0xab),
      attributes: [attr('User-Name', 'ab'), attr('WISPr-Bandwidth-Max-Up', 256)],
    });
    assert.equal(wire.toString('hex'), [
      '012a', '0024', 'ab'.repeat(16),
      '01046162', // User-Name "ab"
      '1a0c' + '0000372a' + '0706' + '00000100', // Vendor-Specific, vendor 14122, type 7, length 6, 256
    ].join(''));
    const back = decodePacket(wire);
    assert.deepEqual(back.attributes, [{ type: 1, value: Buffer.from('ab') }, { type: 7, vendor: 14122, value: Buffer.from([0, 0, 1, 0]) }]);
  });

  it('refuses to build what the wire cannot carry', () => {
    assert.throws(() => attr('Reply-Message', 'x'.repeat(254)), code(RADIUS_ERROR.badAttribute));
    assert.throws(() => attr('WISPr-Redirection-URL', 'x'.repeat(248)), code(RADIUS_ERROR.badAttribute));
    assert.throws(() => attr('User-Name', ''), code(RADIUS_ERROR.badAttribute));
    assert.throws(() => attr('Session-Timeout', -1), code(RADIUS_ERROR.badAttribute));
    assert.throws(() => attr('Session-Timeout', 2 ** 32), code(RADIUS_ERROR.badAttribute));
    assert.throws(() => attr('Framed-IP-Address', '10.1.0.256'), code(RADIUS_ERROR.badAttribute));
    assert.throws(() => attr('No-Such-Attribute', 1), code(RADIUS_ERROR.badAttribute));
    // 20 + 15 × 255 + 251 = 4096 exactly; one octet more is too long.
    const full = Array.from({ length: 15 }, () => attr('Reply-Message', 'y'.repeat(253)));
    const fits = [...full, attr('Reply-Message', 'z'.repeat(249))];
    assert.equal(encodePacket({ code: 2, identifier: 1, authenticator: Buffer.alloc(16), attributes: fits }).length, 4096);
    const over = [...full, attr('Reply-Message', 'z'.repeat(250))];
    assert.throws(() => encodePacket({ code: 2, identifier: 1, authenticator: Buffer.alloc(16), attributes: over }), code(RADIUS_ERROR.tooLong));
  });

  it('types: named integers, IPv4, IPv6 (RFC 5952 text), IPv6 prefixes (RFC 3162 §2.3), dates', () => {
    assert.deepEqual(attr('NAS-Port-Type', 'Wireless-802.11').value, Buffer.from([0, 0, 0, 19]));
    assert.deepEqual(attr('Acct-Terminate-Cause', 'Session-Timeout').value, Buffer.from([0, 0, 0, 5]));
    assert.deepEqual(attr('Framed-IPv6-Prefix', '2001:db8::/32').value, Buffer.from([0, 32, 0x20, 0x01, 0x0d, 0xb8]));
    const attrs: RadiusAttribute[] = [
      attr('Framed-IPv6-Address', '2001:0db8:0000:0000:0000:0000:0000:0001'),
      attr('NAS-IPv6-Address', '::ffff:10.1.2.3'),
      attr('Framed-IP-Address', '192.0.2.7'),
      attr('Event-Timestamp', new Date('2026-12-06T20:00:00Z')),
    ];
    assert.equal(getText(attrs, 'Framed-IPv6-Address'), '2001:db8::1');
    assert.equal(getText(attrs, 'NAS-IPv6-Address'), '::ffff:a01:203');
    assert.equal(getText(attrs, 'Framed-IP-Address'), '192.0.2.7');
    assert.equal(getInteger(attrs, 'Event-Timestamp'), Date.parse('2026-12-06T20:00:00Z') / 1000);
    assert.throws(() => getInteger([{ type: 27, value: Buffer.from([1, 2, 3]) }], 'Session-Timeout'), code(RADIUS_ERROR.badAttribute));
  });
});

describe('authenticators and hiding', () => {
  it('hides User-Password as RFC 2865 §7.1 shows ("arctangent", secret xyzzy5461)', () => {
    const ra = Buffer.from('0f403f9473978057bd83d5cb98f4227a', 'hex');
    const hidden = hidePassword(Buffer.from('arctangent'), Buffer.from('xyzzy5461'), ra);
    assert.equal(hidden.toString('hex'), '0dbe708d93d413ce3196e43f782a0aee');
    assert.equal(unhidePassword(hidden, Buffer.from('xyzzy5461'), ra).toString(), 'arctangent');
  });

  it('hides 0..128 octets in 16-octet blocks and refuses more', () => {
    const ra = Buffer.alloc(16, 7);
    for (const n of [0, 1, 15, 16, 17, 127, 128]) {
      const pw = Buffer.alloc(n, 0x61);
      const h = hidePassword(pw, Buffer.from('s'), ra);
      assert.equal(h.length, Math.max(16, Math.ceil(n / 16) * 16));
      assert.deepEqual(unhidePassword(h, Buffer.from('s'), ra), pw);
    }
    assert.throws(() => hidePassword(Buffer.alloc(129), Buffer.from('s'), ra), code(RADIUS_ERROR.badAttribute));
    assert.throws(() => unhidePassword(Buffer.alloc(17), Buffer.from('s'), ra), code(RADIUS_ERROR.badAttribute));
  });

  it('a signed reply verifies with the request authenticator and secret, and not with another of either', () => {
    const secret = Buffer.from('s3');
    const reqAuth = Buffer.alloc(16, 3);
    const wire = signResponse({ code: 2, identifier: 9, authenticator: reqAuth, attributes: [{ type: 80, value: Buffer.alloc(16) }, attr('Session-Timeout', 5)] }, reqAuth, secret);
    assert.deepEqual(verifyResponse(wire, reqAuth, secret), { authenticator: true, messageAuthenticator: 'valid' });
    assert.equal(verifyResponse(wire, Buffer.alloc(16, 4), secret).authenticator, false);
    assert.equal(verifyResponse(wire, reqAuth, Buffer.from('s4')).messageAuthenticator, 'invalid');
    const acct = signRequest({ code: CODE.accountingRequest, identifier: 1, authenticator: Buffer.alloc(16), attributes: [{ type: 80, value: Buffer.alloc(16) }, attr('Acct-Session-Id', 'A')] }, secret);
    assert.deepEqual(verifyRequest(acct, secret), { authenticator: true, messageAuthenticator: 'valid' });
    assert.deepEqual(verifyRequest(acct, Buffer.from('x')), { authenticator: false, messageAuthenticator: 'invalid' });
  });
});

describe('requests and policy', () => {
  const nas = { nasIdentifier: 'gw1', nasIpAddress: '192.0.2.1', calledStationId: '02-00-00-00-00-01:moat' };

  it('puts no Message-Authenticator of its own in the attribute lists (the client puts it first) and sends MACs in IEEE form', () => {
    const a = accessRequestAttributes(
      { credentials: { kind: 'pap', userName: 'u', password: 'p' }, callingStationId: 'aa:bb:cc:dd:ee:0f', framedIpAddress: '10.1.0.9', acctSessionId: 'S' },
      nas, Buffer.from('s'), Buffer.alloc(16),
    );
    assert.ok(!a.some((x) => x.type === 80));
    assert.equal(getText(a, 'Calling-Station-Id'), 'AA-BB-CC-DD-EE-0F');
    assert.equal(getInteger(a, 'NAS-Port-Type'), 19);
    assert.equal(getInteger(a, 'Service-Type'), 1);
    assert.equal(getText(a, 'Called-Station-Id'), '02-00-00-00-00-01:moat');
    assert.equal(macToCallingStationId('aabb.ccdd.eeff'), 'AA-BB-CC-DD-EE-FF');
    assert.equal(macToCallingStationId('not a mac'), 'not a mac');
  });

  it('splits octet counters into octets and gigawords at the 2^32 boundary', () => {
    const split = (n: bigint) => {
      const a = accountingRequestAttributes({ statusType: 'interim', acctSessionId: 'S', inputOctets: n }, nas);
      return [getInteger(a, 'Acct-Input-Octets'), getInteger(a, 'Acct-Input-Gigawords')];
    };
    assert.deepEqual(split(0n), [0, 0]);
    assert.deepEqual(split((1n << 32n) - 1n), [0xffffffff, 0]);
    assert.deepEqual(split(1n << 32n), [0, 1]);
    assert.deepEqual(split(10n * (1n << 32n) + 12345n), [12345, 10]);
    assert.throws(() => split(-1n), code(RADIUS_ERROR.badAttribute));
    assert.throws(() => accountingRequestAttributes({ statusType: 'start' }, nas), code(RADIUS_ERROR.badAttribute));
    const on = accountingRequestAttributes({ statusType: 'on' }, nas);
    assert.equal(getInteger(on, 'Acct-Status-Type'), 7);
    assert.match(getText(on, 'Acct-Session-Id') ?? '', /^[0-9A-F]{16}$/);
  });

  it('maps ChilliSpot bandwidth (kbit/s) and WISPr (bit/s) to bit/s; ChilliSpot wins when both are there, as in CoovaChilli', () => {
    assert.deepEqual(mapPolicy([attr('ChilliSpot-Bandwidth-Max-Up', 512), attr('ChilliSpot-Bandwidth-Max-Down', 2048)]), { bandwidthUp: 512_000, bandwidthDown: 2_048_000 });
    assert.deepEqual(mapPolicy([attr('WISPr-Bandwidth-Max-Up', 100)]), { bandwidthUp: 100 });
    assert.deepEqual(mapPolicy([attr('WISPr-Bandwidth-Max-Up', 100), attr('ChilliSpot-Bandwidth-Max-Up', 512)]), { bandwidthUp: 512_000 });
    assert.deepEqual(mapPolicy([attr('ChilliSpot-Max-Output-Gigawords', 1)]), { maxOutputOctets: 1n << 32n });
    assert.deepEqual(mapPolicy([attr('Class', 'a'), attr('Class', 'b')]), { class: [Buffer.from('a'), Buffer.from('b')] });
    assert.throws(() => mapPolicy([attr('WISPr-Session-Terminate-Time', 'tomorrow')]), code(RADIUS_ERROR.badAttribute));
    assert.deepEqual(mapPolicy([attr('WISPr-Session-Terminate-Time', '2031-05-06T07:08:09+02:00')]), { terminateTime: new Date('2031-05-06T05:08:09Z') });
  });
});

describe('IdAllocator', () => {
  it('hands out 256 distinct identifiers, then none until one is freed, round-robin', () => {
    const ids = new IdAllocator(250);
    const got = new Set<number>();
    for (let i = 0; i < 256; i++) got.add(ids.tryAcquire() ?? -1);
    assert.equal(got.size, 256);
    assert.ok(!got.has(-1));
    assert.equal(ids.tryAcquire(), undefined);
    ids.release(17);
    ids.release(17);
    assert.equal(ids.outstanding, 255);
    assert.equal(ids.tryAcquire(), 17);
    // Round-robin: a freed identifier is not the next one handed out while others are free.
    const fresh = new IdAllocator(0);
    const a = fresh.tryAcquire();
    fresh.release(a ?? 0);
    assert.equal(fresh.tryAcquire(), 1);
  });
});
