// Authenticators and hidden attributes: RFC 2865 §3 (Request and Response
// Authenticator), §5.2 (User-Password hiding), §5.3 (CHAP-Password); RFC 2866
// §3 (Accounting-Request Authenticator); RFC 5176 §2.3 (CoA/Disconnect, the
// same as accounting); RFC 2869 §5.14 and RFC 3579 §3.2 (Message-Authenticator).
import { lazyCrypto } from '../../core/index.js';
import { radiusError, RADIUS_ERROR } from './errors.js';
import { CODE, MESSAGE_AUTHENTICATOR } from './dictionary.js';
import { encodePacket, messageAuthenticatorOffset, type RadiusPacket } from './packet.js';

const ZERO16 = Buffer.alloc(16);

function md5(...parts: Buffer[]): Buffer {
  const h = lazyCrypto().createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

function hmacMd5(key: Buffer, data: Buffer): Buffer {
  return lazyCrypto().createHmac('md5', key).update(data).digest();
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && lazyCrypto().timingSafeEqual(a, b);
}

/** 16 random octets for an Access-Request's Request Authenticator (RFC 2865 §3: unpredictable). */
export function randomAuthenticator(): Buffer {
  return lazyCrypto().randomBytes(16);
}

/** An empty Message-Authenticator to put first in a packet; signing fills it in. */
export function messageAuthenticatorPlaceholder(): { type: number; value: Buffer } {
  return { type: MESSAGE_AUTHENTICATOR, value: Buffer.alloc(16) };
}

/** Requests whose authenticator is MD5 over the packet with a zero authenticator (RFC 2866 §3, RFC 5176 §2.3). */
function hasComputedRequestAuthenticator(code: number): boolean {
  return code === CODE.accountingRequest || code === CODE.coaRequest || code === CODE.disconnectRequest;
}

/** Fill in the Message-Authenticator, if the packet has one, over `buf` as it stands. */
function fillMessageAuthenticator(buf: Buffer, secret: Buffer): void {
  const at = messageAuthenticatorOffset(buf);
  if (at < 0) return;
  ZERO16.copy(buf, at);
  hmacMd5(secret, buf).copy(buf, at);
}

/**
 * Encode and sign a request. Access-Request and Status-Server keep the
 * (random) authenticator given; Accounting, CoA and Disconnect requests get
 * the computed one. A Message-Authenticator attribute, if present, is
 * computed first (over the zero authenticator for the computed kinds).
 */
export function signRequest(p: RadiusPacket, secret: Buffer): Buffer {
  const computed = hasComputedRequestAuthenticator(p.code);
  const buf = encodePacket(computed ? { ...p, authenticator: ZERO16 } : p);
  fillMessageAuthenticator(buf, secret);
  if (computed) md5(buf, secret).copy(buf, 4);
  return buf;
}

/**
 * Encode and sign a reply to a request whose authenticator was
 * `requestAuthenticator`: the Message-Authenticator is computed with the
 * request's authenticator in place, then the Response Authenticator.
 */
export function signResponse(p: RadiusPacket, requestAuthenticator: Buffer, secret: Buffer): Buffer {
  const buf = encodePacket({ ...p, authenticator: requestAuthenticator });
  fillMessageAuthenticator(buf, secret);
  md5(buf, secret).copy(buf, 4);
  return buf;
}

export type MessageAuthenticatorState = 'absent' | 'valid' | 'invalid';

/** Check a Message-Authenticator over `buf` with `authenticator` in the header. */
function checkMessageAuthenticator(buf: Buffer, authenticator: Buffer, secret: Buffer): MessageAuthenticatorState {
  const at = messageAuthenticatorOffset(buf);
  if (at < 0) return 'absent';
  const copy = Buffer.from(buf.subarray(0, buf.readUInt16BE(2)));
  const got = Buffer.from(copy.subarray(at, at + 16));
  authenticator.copy(copy, 4);
  ZERO16.copy(copy, at);
  return equal(hmacMd5(secret, copy), got) ? 'valid' : 'invalid';
}

export interface Verification {
  /** The packet's authenticator is right. */
  authenticator: boolean;
  messageAuthenticator: MessageAuthenticatorState;
}

/** Verify a reply (`buf` already decoded once) against the request's authenticator. */
export function verifyResponse(buf: Buffer, requestAuthenticator: Buffer, secret: Buffer): Verification {
  const length = buf.readUInt16BE(2);
  const copy = Buffer.from(buf.subarray(0, length));
  const got = Buffer.from(copy.subarray(4, 20));
  requestAuthenticator.copy(copy, 4);
  return {
    authenticator: equal(md5(copy, secret), got),
    messageAuthenticator: checkMessageAuthenticator(buf, requestAuthenticator, secret),
  };
}

/**
 * Verify a request (`buf` already decoded once). For Accounting, CoA and
 * Disconnect the authenticator is checked; an Access-Request's is random,
 * so only its Message-Authenticator can be.
 */
export function verifyRequest(buf: Buffer, secret: Buffer): Verification {
  const length = buf.readUInt16BE(2);
  const code = buf[0] ?? 0;
  if (!hasComputedRequestAuthenticator(code)) {
    return { authenticator: true, messageAuthenticator: checkMessageAuthenticator(buf, buf.subarray(4, 20), secret) };
  }
  const copy = Buffer.from(buf.subarray(0, length));
  const got = Buffer.from(copy.subarray(4, 20));
  ZERO16.copy(copy, 4);
  return { authenticator: equal(md5(copy, secret), got), messageAuthenticator: checkMessageAuthenticator(buf, ZERO16, secret) };
}

/**
 * RFC 2865 §5.2's keystream: block i is XORed with MD5(secret || c(i-1)),
 * c(0) being the Request Authenticator and c(i) the hidden (cipher) blocks.
 */
function xorChain(data: Buffer, secret: Buffer, requestAuthenticator: Buffer, hiding: boolean): Buffer {
  const out = Buffer.alloc(data.length);
  let prev = requestAuthenticator;
  for (let i = 0; i < data.length; i += 16) {
    const b = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (data[i + j] ?? 0) ^ (b[j] ?? 0);
    prev = (hiding ? out : data).subarray(i, i + 16);
  }
  return out;
}

/** RFC 2865 §5.2: User-Password hidden with the secret and the Request Authenticator. At most 128 octets. */
export function hidePassword(password: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer {
  if (password.length > 128) throw radiusError(RADIUS_ERROR.badAttribute, 'User-Password longer than 128 octets');
  const padded = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  password.copy(padded);
  return xorChain(padded, secret, requestAuthenticator, true);
}

/** The inverse of hidePassword (trailing NULs removed). Throws on a length that is not a multiple of 16. */
export function unhidePassword(hidden: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > 128) {
    throw radiusError(RADIUS_ERROR.badAttribute, `hidden User-Password of ${String(hidden.length)} octets`);
  }
  const out = xorChain(hidden, secret, requestAuthenticator, false);
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/** RFC 1994 §4.1 as RFC 2865 §2.2 uses it: MD5(CHAP Identifier || password || challenge). */
export function chapResponse(chapId: number, password: Buffer | string, challenge: Buffer): Buffer {
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  return md5(Buffer.from([chapId & 0xff]), pw, challenge);
}

/** RFC 2865 §5.3 CHAP-Password value: CHAP Ident then the 16-octet response. */
export function chapPassword(chapId: number, response: Buffer): Buffer {
  if (response.length !== 16) throw radiusError(RADIUS_ERROR.badAttribute, 'CHAP response must be 16 octets');
  return Buffer.concat([Buffer.from([chapId & 0xff]), response]);
}
