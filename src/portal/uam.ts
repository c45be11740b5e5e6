// CoovaChilli's UAM protocol: the redirect to the login page with its
// parameters and signature, the per-client challenge, and the CHAP and PAP
// forms a hotspotlogin page sends back.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface UamParams {
  res: 'notyet' | 'success' | 'failed' | 'logoff' | 'already';
  uamip: string;
  uamport: number;
  challenge: string;
  called: string;
  mac: string;
  ip: string;
  nasid: string;
  sessionid: string;
  userurl: string;
  reply?: string;
}

export interface Signer {
  mode: 'hmac-sha256' | 'md5';
  secret: Buffer;
  lifetimeSeconds: number;
}

/**
 * Build the login URL. `md` signs everything before it:
 * - hmac-sha256 (default): hex HMAC-SHA256 of the query string (after `?`,
 *   before `&md=`), which carries `exp`, the Unix time the link expires;
 * - md5 (CoovaChilli): upper-case hex MD5 of the whole URL up to `&md=`
 *   followed by the secret; no expiry.
 */
export function signedUrl(base: string, params: UamParams, signer: Signer, now = Date.now()): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  if (signer.mode === 'hmac-sha256') q.set('exp', String(Math.floor(now / 1000) + signer.lifetimeSeconds));
  const url = `${base}${base.includes('?') ? '&' : '?'}${q.toString()}`;
  return `${url}&md=${sign(url, signer)}`;
}

function sign(url: string, signer: Signer): string {
  if (signer.mode === 'md5') return createHash('md5').update(url).update(signer.secret).digest('hex').toUpperCase();
  const query = url.slice(url.indexOf('?') + 1);
  return createHmac('sha256', signer.secret).update(query).digest('hex');
}

/** Check a signed URL as received; true when the signature is right and not expired. */
export function verifyUrl(url: string, signer: Signer, now = Date.now()): boolean {
  const at = url.lastIndexOf('&md=');
  if (at < 0) return false;
  const given = url.slice(at + 4);
  const body = url.slice(0, at);
  const want = sign(body, signer);
  if (given.length !== want.length || !timingSafeEqual(Buffer.from(given.toUpperCase()), Buffer.from(want.toUpperCase()))) return false;
  if (signer.mode === 'md5') return true;
  const exp = Number(new URLSearchParams(body.slice(body.indexOf('?') + 1)).get('exp'));
  return Number.isFinite(exp) && exp * 1000 >= now;
}

/** Per-client challenges, as CoovaChilli keeps one per session; bounded and expiring. */
export class Challenges {
  private readonly map = new Map<string, { value: Buffer; until: number }>();

  constructor(
    private readonly ttlMs = 600_000,
    private readonly max = 65536,
  ) {}

  /** The current challenge of this MAC, made when there is none. */
  get(mac: string, now = Date.now()): Buffer {
    const c = this.map.get(mac);
    if (c !== undefined && c.until > now) return c.value;
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    const value = randomBytes(16);
    this.map.delete(mac);
    this.map.set(mac, { value, until: now + this.ttlMs });
    return value;
  }

  /** A challenge is used once. */
  forget(mac: string): void {
    this.map.delete(mac);
  }
}

/** CoovaChilli: with a uamsecret, the page works on MD5(challenge || uamsecret). */
export function pageChallenge(challenge: Buffer, uamSecret: Buffer | undefined): Buffer {
  return uamSecret === undefined ? challenge : createHash('md5').update(challenge).update(uamSecret).digest();
}

/** RFC 1994 §4.1: Response = MD5(Identifier || secret || Challenge). */
export function chapResponse(id: number, password: string, challenge: Buffer): Buffer {
  return createHash('md5').update(Buffer.from([id & 0xff])).update(password, 'utf8').update(challenge).digest();
}

/** hotspotlogin.cgi's PAP: the password XORed with the page challenge, hex; NULs at the end are padding. */
export function decodeUamPassword(hex: string, challenge: Buffer): string | undefined {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex) || hex.length > 256) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  for (let i = 0; i < bytes.length; i++) bytes[i] = (bytes[i] ?? 0) ^ (challenge[i % challenge.length] ?? 0);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** Only absolute http(s) URLs are places to send a user back to. */
export function safeUserUrl(u: string | null | undefined): string | undefined {
  if (u === null || u === undefined || u.length > 2048) return undefined;
  try {
    const url = new URL(u);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}
