// The CoA listener's own decisions, driven by packets we sign ourselves:
// a peer that must send Message-Authenticator, a handler that throws or
// hangs, Proxy-State echo, and an IPv6 listener.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import {
  CODE, attr, decodePacket, signRequest, startCoaListener, verifyResponse, RADIUS_ERROR, type CoaEvent, type CoaHandler, type RadiusAttribute,
} from '../../../src/portal/radius/index.js';

const SECRET = 'listener-secret';

function request(code: number, identifier: number, attributes: RadiusAttribute[], withMa = true): Buffer {
  const ma = withMa ? [{ type: 80, value: Buffer.alloc(16) }] : [];
  return signRequest({ code, identifier, authenticator: Buffer.alloc(16), attributes: [...ma, ...attributes] }, Buffer.from(SECRET));
}

/** Send one datagram to the listener and wait up to `ms` for the answer. */
async function exchange(family: 'udp4' | 'udp6', host: string, port: number, wire: Buffer, ms = 400): Promise<Buffer | undefined> {
  const s = createSocket(family);
  try {
    await new Promise<void>((resolve) => s.bind(0, host, resolve));
    const answer = new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => { resolve(undefined); }, ms);
      s.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    s.send(wire, port, host);
    return await answer;
  } finally {
    s.close();
  }
}

async function withListener(
  opts: { host?: string; requireMa?: boolean; handlerTimeoutMs?: number; maxInFlight?: number },
  handler: CoaHandler,
  body: (port: number, events: CoaEvent[]) => Promise<void>,
): Promise<void> {
  const events: CoaEvent[] = [];
  const host = opts.host ?? '127.0.0.1';
  const l = await startCoaListener(
    {
      host, port: 0, clients: [{ address: host === '::1' ? '0:0::1' : host, secret: SECRET, requireMessageAuthenticator: opts.requireMa ?? false }],
      handlerTimeoutMs: opts.handlerTimeoutMs ?? 5000, maxInFlight: opts.maxInFlight ?? 256, onEvent: (e) => events.push(e),
    },
    handler,
  );
  try {
    await body(l.port, events);
  } finally {
    await l.close();
  }
}

const errorCause = (reply: Buffer | undefined): number | undefined => {
  if (reply === undefined) return undefined;
  return decodePacket(reply).attributes.find((a) => a.type === 101)?.value.readUInt32BE(0);
};

describe('CoA listener decisions', () => {
  it('drops a request without Message-Authenticator from a peer that must send one, answers one with it', async () => {
    await withListener({ requireMa: true }, () => Promise.resolve({ ack: true }), async (port, events) => {
      const none = await exchange('udp4', '127.0.0.1', port, request(CODE.disconnectRequest, 1, [attr('User-Name', 'u')], false));
      assert.equal(none, undefined);
      assert.ok(events.some((e) => e.type === 'drop' && e.code === RADIUS_ERROR.missingMessageAuthenticator));
      const req = request(CODE.disconnectRequest, 2, [attr('User-Name', 'u')]);
      const ok = await exchange('udp4', '127.0.0.1', port, req);
      assert.ok(ok !== undefined);
      assert.equal(decodePacket(ok).code, CODE.disconnectAck);
      // The reply's authenticator and Message-Authenticator are computed over the request's authenticator.
      assert.deepEqual(verifyResponse(ok, req.subarray(4, 20), Buffer.from(SECRET)), { authenticator: true, messageAuthenticator: 'valid' });
    });
  });

  it('NAKs 506 Resources-Unavailable when the handler throws or does not answer in time', async () => {
    let n = 0;
    const handler: CoaHandler = async () => {
      n++;
      if (n === 1) throw new Error('session store on fire');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return { ack: true };
    };
    await withListener({ handlerTimeoutMs: 100 }, handler, async (port) => {
      const thrown = await exchange('udp4', '127.0.0.1', port, request(CODE.coaRequest, 3, [attr('Acct-Session-Id', 'A'), attr('Session-Timeout', 10)]));
      assert.equal(decodePacket(thrown ?? Buffer.alloc(20)).code, CODE.coaNak);
      assert.equal(errorCause(thrown), 506);
      const slow = await exchange('udp4', '127.0.0.1', port, request(CODE.coaRequest, 4, [attr('Acct-Session-Id', 'A')]));
      assert.equal(errorCause(slow), 506);
    });
  });

  it('NAKs 506 when maxInFlight requests are already with the handler', async () => {
    const slow: CoaHandler = async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { ack: true };
    };
    await withListener({ maxInFlight: 1 }, slow, async (port) => {
      const [first, second] = await Promise.all([
        exchange('udp4', '127.0.0.1', port, request(CODE.disconnectRequest, 10, [attr('User-Name', 'a')]), 1000),
        new Promise((resolve) => setTimeout(resolve, 50)).then(() => exchange('udp4', '127.0.0.1', port, request(CODE.disconnectRequest, 11, [attr('User-Name', 'b')]), 1000)),
      ]);
      assert.equal(decodePacket(first ?? Buffer.alloc(20)).code, CODE.disconnectAck);
      assert.equal(errorCause(second), 506);
    });
  });

  it('copies Proxy-State attributes into the reply in order, and NAKs 405 for a Service-Type it does not offer', async () => {
    await withListener({}, () => Promise.resolve({ ack: false, errorCause: 503 }), async (port) => {
      const reply = await exchange('udp4', '127.0.0.1', port, request(CODE.disconnectRequest, 5, [
        attr('Acct-Session-Id', 'gone'), { type: 33, value: Buffer.from('p1') }, { type: 33, value: Buffer.from('p2') },
      ]));
      assert.ok(reply !== undefined);
      const p = decodePacket(reply);
      assert.equal(p.code, CODE.disconnectNak);
      assert.equal(errorCause(reply), 503);
      assert.deepEqual(p.attributes.filter((a) => a.type === 33).map((a) => a.value.toString()), ['p1', 'p2']);
      const authorizeOnly = await exchange('udp4', '127.0.0.1', port, request(CODE.coaRequest, 6, [attr('Acct-Session-Id', 'x'), attr('Service-Type', 'Authorize-Only')]));
      assert.equal(errorCause(authorizeOnly), 405);
    });
  });

  it('drops a request whose Event-Timestamp is outside the window (replay), answers one inside it', async () => {
    await withListener({}, () => Promise.resolve({ ack: true }), async (port, events) => {
      const old = await exchange('udp4', '127.0.0.1', port, request(CODE.disconnectRequest, 8, [attr('User-Name', 'u'), attr('Event-Timestamp', new Date(Date.now() - 3600_000))]));
      assert.equal(old, undefined);
      assert.ok(events.some((e) => e.type === 'drop' && e.code === RADIUS_ERROR.replay));
      const fresh = await exchange('udp4', '127.0.0.1', port, request(CODE.disconnectRequest, 9, [attr('User-Name', 'u'), attr('Event-Timestamp', new Date())]));
      assert.equal(decodePacket(fresh ?? Buffer.alloc(20)).code, CODE.disconnectAck);
    });
  });

  it('listens on IPv6 and hands over an IPv6 session address', async () => {
    let seen: string | undefined;
    await withListener({ host: '::1' }, (req) => {
      seen = req.framedIpv6Address;
      return Promise.resolve({ ack: true });
    }, async (port) => {
      const reply = await exchange('udp6', '::1', port, request(CODE.disconnectRequest, 7, [attr('Framed-IPv6-Address', '2001:db8:0:0::42')]));
      assert.equal(decodePacket(reply ?? Buffer.alloc(20)).code, CODE.disconnectAck);
      assert.equal(seen, '2001:db8::42');
    });
  });

  it('refuses a listen address or client that is not an IP address, and a port in use, with stable codes', async () => {
    await assert.rejects(startCoaListener({ host: 'localhost', clients: [] }, () => Promise.resolve({ ack: true })), { code: RADIUS_ERROR.config });
    await assert.rejects(
      startCoaListener({ host: '127.0.0.1', port: 0, clients: [{ address: 'radius.example', secret: 'x' }] }, () => Promise.resolve({ ack: true })),
      { code: RADIUS_ERROR.config },
    );
    const first = await startCoaListener({ host: '127.0.0.1', port: 0, clients: [] }, () => Promise.resolve({ ack: true }));
    try {
      await assert.rejects(startCoaListener({ host: '127.0.0.1', port: first.port, clients: [] }, () => Promise.resolve({ ack: true })), { code: RADIUS_ERROR.bind });
    } finally {
      await first.close();
    }
  });
});
