// radclient (freeradius-utils) as the client and our codec as the server:
// we decode what radclient sends (PAP, CHAP, vendor attributes, its
// Message-Authenticator, accounting authenticators) and radclient accepts
// and decodes the replies we sign.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { needs } from '../../helpers/system.js';
import { freeradiusRequirements } from '../../helpers/freeradius.js';
import {
  CODE, attr, chapResponse, decodePacket, getInteger, getRaw, getText, signResponse, unhidePassword, verifyRequest,
  messageAuthenticatorPlaceholder, type RadiusPacket,
} from '../../../src/portal/radius/index.js';

const SECRET = `rc-${randomBytes(4).toString('hex')}`;

function radclient(args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', () => { resolve(out); });
    child.stdin.end(input);
  });
}

/** A one-shot server: hands each request to `answer`, sends back what it returns. */
async function server(answer: (p: RadiusPacket, raw: Buffer) => RadiusPacket | undefined) {
  const s = createSocket('udp4');
  const got: { packet: RadiusPacket; raw: Buffer }[] = [];
  s.on('message', (raw: Buffer, rinfo: RemoteInfo) => {
    const packet = decodePacket(raw);
    got.push({ packet, raw });
    const reply = answer(packet, raw);
    if (reply !== undefined) s.send(signResponse(reply, packet.authenticator, Buffer.from(SECRET)), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return { port: s.address().port, got, close: () => new Promise<void>((resolve) => s.close(() => { resolve(); })) };
}

describe('our codec as the server, radclient as the client', () => {
  it('Access-Request with PAP, vendor attributes and Message-Authenticator: decoded, verified, and our signed Access-Accept decoded by radclient', async (t) => {
    if (!needs(t, freeradiusRequirements())) return;
    const srv = await server((p) => ({
      code: CODE.accessAccept,
      identifier: p.identifier,
      authenticator: p.authenticator,
      attributes: [
        messageAuthenticatorPlaceholder(),
        attr('Session-Timeout', 1800),
        attr('WISPr-Bandwidth-Max-Down', 4_000_000),
        attr('ChilliSpot-Max-Total-Octets', 123456),
        attr('Reply-Message', 'hello from moat'),
      ],
    }));
    try {
      const out = await radclient(
        ['-x', '-t', '2', '-r', '1', `127.0.0.1:${String(srv.port)}`, 'auth', SECRET],
        'User-Name = "dave", User-Password = "a-rather-long-password-of-33-octs", Message-Authenticator = 0x00, ' +
          'Calling-Station-Id = "AA-BB-CC-DD-EE-FF", NAS-Port-Type = Wireless-802.11, WISPr-Location-Name = "Brighton pier", ' +
          'Framed-IPv6-Prefix = 2001:db8:1::/48\n',
      );
      const req = srv.got[0];
      assert.ok(req !== undefined, out);
      const { packet, raw } = req;
      assert.equal(packet.code, CODE.accessRequest);
      assert.equal(verifyRequest(raw, Buffer.from(SECRET)).messageAuthenticator, 'valid');
      assert.equal(verifyRequest(raw, Buffer.from('other')).messageAuthenticator, 'invalid');
      assert.equal(getText(packet.attributes, 'User-Name'), 'dave');
      const hidden = getRaw(packet.attributes, 'User-Password');
      assert.ok(hidden !== undefined);
      assert.equal(hidden.length, 48);
      assert.equal(unhidePassword(hidden, Buffer.from(SECRET), packet.authenticator).toString(), 'a-rather-long-password-of-33-octs');
      assert.equal(getText(packet.attributes, 'Calling-Station-Id'), 'AA-BB-CC-DD-EE-FF');
      assert.equal(getInteger(packet.attributes, 'NAS-Port-Type'), 19);
      assert.equal(getText(packet.attributes, 'WISPr-Location-Name'), 'Brighton pier');
      assert.equal(getText(packet.attributes, 'Framed-IPv6-Prefix'), '2001:db8:1::/48');
      assert.match(out, /Received Access-Accept/);
      assert.match(out, /Session-Timeout = 1800/);
      assert.match(out, /WISPr-Bandwidth-Max-Down = 4000000/);
      assert.match(out, /ChilliSpot-Max-Total-Octets = 123456/);
      assert.match(out, /Reply-Message = "hello from moat"/);
    } finally {
      await srv.close();
    }
  });

  it('CHAP from radclient (challenge in the Request Authenticator) checks out, and an Access-Reject we sign is believed', async (t) => {
    if (!needs(t, freeradiusRequirements())) return;
    let chapOk: boolean | undefined;
    const srv = await server((p) => {
      const cp = getRaw(p.attributes, 'CHAP-Password');
      const challenge = getRaw(p.attributes, 'CHAP-Challenge') ?? p.authenticator;
      chapOk = cp?.length === 17 && chapResponse(cp[0] ?? 0, 'sesame', challenge).equals(cp.subarray(1));
      return { code: chapOk ? CODE.accessAccept : CODE.accessReject, identifier: p.identifier, authenticator: p.authenticator, attributes: [messageAuthenticatorPlaceholder()] };
    });
    try {
      const ok = await radclient(['-x', '-t', '2', '-r', '1', `127.0.0.1:${String(srv.port)}`, 'auth', SECRET], 'User-Name = "erin", CHAP-Password = "sesame"\n');
      assert.equal(chapOk, true, ok);
      assert.match(ok, /Received Access-Accept/);
      const bad = await radclient(['-x', '-t', '2', '-r', '1', `127.0.0.1:${String(srv.port)}`, 'auth', SECRET], 'User-Name = "erin", CHAP-Password = "open"\n');
      assert.equal(chapOk, false);
      assert.match(bad, /Received Access-Reject/);
    } finally {
      await srv.close();
    }
  });

  it('Accounting-Request from radclient: its Request Authenticator verifies with the secret (and not without), our Accounting-Response is accepted', async (t) => {
    if (!needs(t, freeradiusRequirements())) return;
    const srv = await server((p) => ({ code: CODE.accountingResponse, identifier: p.identifier, authenticator: p.authenticator, attributes: [] }));
    try {
      const out = await radclient(
        ['-x', '-t', '2', '-r', '1', `127.0.0.1:${String(srv.port)}`, 'acct', SECRET],
        'Acct-Status-Type = Stop, Acct-Session-Id = "R-1", Acct-Input-Octets = 5, Acct-Input-Gigawords = 2, Acct-Terminate-Cause = Session-Timeout, Event-Timestamp = 1700000000\n',
      );
      const req = srv.got[0];
      assert.ok(req !== undefined, out);
      assert.deepEqual(verifyRequest(req.raw, Buffer.from(SECRET)), { authenticator: true, messageAuthenticator: 'absent' });
      assert.equal(verifyRequest(req.raw, Buffer.from(`${SECRET}x`)).authenticator, false);
      assert.equal(getInteger(req.packet.attributes, 'Acct-Terminate-Cause'), 5);
      assert.equal(getInteger(req.packet.attributes, 'Acct-Input-Gigawords'), 2);
      assert.equal(getInteger(req.packet.attributes, 'Event-Timestamp'), 1_700_000_000);
      assert.match(out, /Received Accounting-Response/);
    } finally {
      await srv.close();
    }
  });
});
