// CoovaChilli's JSON interface (/json/status, /json/logon, /json/logoff, with
// a JSONP `callback`) and the RFC 8908 Captive Portal API.
import type { Gateway } from './gateway.js';
import type { PortalSettings } from './portal-config.js';
import { TERMINATE_CAUSE, type ClientKey, type Credentials } from './ports.js';
import { sessionTime, type Session } from './session.js';

export interface JsonContext {
  settings: PortalSettings;
  gateway: Gateway;
  client: ClientKey | undefined;
  session: Session | undefined;
  challenge: string;
  base: string;
  now: number;
}

const GIGA = 1n << 32n;

/** CoovaChilli's status object: clientState 0 (not logged in) or 1, and the session's figures. */
export function jsonStatus(c: JsonContext, message?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    version: '1.0',
    clientState: c.session === undefined ? 0 : 1,
    challenge: c.challenge,
    location: { name: c.settings.config['nas-id'] },
    redir: {
      logoutURL: `${c.base}/logoff`,
      ipAddress: c.client?.ipv4 ?? '',
      macAddress: c.client === undefined ? '' : c.client.mac.toUpperCase().replace(/:/g, '-'),
      ...(c.session?.policy.redirectionUrl === undefined ? {} : { redirectionURL: c.session.policy.redirectionUrl }),
    },
  };
  if (message !== undefined) out.message = message;
  const s = c.session;
  if (s !== undefined) {
    const d = c.gateway.defaults;
    out.session = {
      sessionId: s.id,
      userName: s.userName,
      startTime: Math.floor(s.startedAt / 1000),
      sessionTimeout: s.policy.sessionTimeout ?? d.sessionTimeout,
      idleTimeout: s.policy.idleTimeout ?? d.idleTimeout,
      ...(s.policy.maxTotalOctets === undefined ? {} : { maxTotalOctets: Number(s.policy.maxTotalOctets) }),
      ...(s.policy.bandwidthUp === undefined ? {} : { maxBandwidthUp: s.policy.bandwidthUp }),
      ...(s.policy.bandwidthDown === undefined ? {} : { maxBandwidthDown: s.policy.bandwidthDown }),
    };
    // viewPoint "client": input is what the client received.
    out.accounting = {
      sessionTime: sessionTime(s, c.now),
      idleTime: Math.max(0, Math.floor((c.now - s.lastActivity) / 1000)),
      inputOctets: Number(s.totals.bytesDown % GIGA),
      outputOctets: Number(s.totals.bytesUp % GIGA),
      inputGigawords: Number(s.totals.bytesDown / GIGA),
      outputGigawords: Number(s.totals.bytesUp / GIGA),
      viewPoint: 'client',
    };
  }
  return out;
}

export async function jsonLogon(
  c: JsonContext,
  credentials: Credentials | undefined,
  attempt: (cr: Credentials) => Promise<{ ok: true; session: Session } | { ok: false; message: string }>,
): Promise<Record<string, unknown>> {
  if (c.session !== undefined) return jsonStatus(c, 'Already logged in');
  if (credentials === undefined) return jsonStatus(c, 'username and response or password are required');
  const r = await attempt(credentials);
  if (!r.ok) return jsonStatus(c, r.message);
  return jsonStatus({ ...c, session: r.session });
}

export async function jsonLogoff(c: JsonContext): Promise<Record<string, unknown>> {
  if (c.session !== undefined) await c.gateway.logout(c.session, TERMINATE_CAUSE.userRequest);
  return jsonStatus({ ...c, session: undefined });
}

/** JSONP as CoovaChilli does it: `callback(json)`; a callback name that is not an identifier is refused. */
export function jsonp(body: unknown, callback: string | null): { type: string; text: string } | undefined {
  const json = JSON.stringify(body);
  if (callback === null || callback === '') return { type: 'application/json', text: `${json}\n` };
  if (!/^[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,3}$/.test(callback)) return undefined;
  return { type: 'application/javascript', text: `${callback}(${json})\n` };
}

/** RFC 8908 §5: the API's JSON object for this client. */
export function captiveApi(
  c: JsonContext,
  portalUrl: string,
  venueUrl: string | undefined,
  remaining: (s: Session) => { seconds: number | undefined; bytes: bigint | undefined },
): Record<string, unknown> {
  const out: Record<string, unknown> = { captive: c.session === undefined };
  if (c.session === undefined) out['user-portal-url'] = portalUrl;
  else {
    out['user-portal-url'] = `${c.base}/status`;
    const r = remaining(c.session);
    if (r.seconds !== undefined) out['seconds-remaining'] = r.seconds;
    if (r.bytes !== undefined) out['bytes-remaining'] = Number(r.bytes);
    out['can-extend-session'] = false;
  }
  if (venueUrl !== undefined) out['venue-info-url'] = venueUrl;
  return out;
}
