// The stable error codes of moat's RADIUS code. Callers (the daemon, its
// metrics, the tests) match on these, never on the message text; their exit
// statuses are in core's catalogue (src/core/error-codes.ts).
import { MoatError } from '../../core/index.js';

export const RADIUS_ERROR = {
  /** A datagram that is not a RADIUS packet: bad length, truncated attribute, noise. */
  malformed: 'MOAT_PORTAL_RADIUS_MALFORMED',
  /** An attribute whose value does not fit its type or its length limit. */
  badAttribute: 'MOAT_PORTAL_RADIUS_BAD_ATTRIBUTE',
  /** A packet we were asked to build would pass 4096 octets (RFC 2865 §3). */
  tooLong: 'MOAT_PORTAL_RADIUS_TOO_LONG',
  /** A request authenticator, response authenticator or Message-Authenticator did not verify. */
  badAuthenticator: 'MOAT_PORTAL_RADIUS_BAD_AUTHENTICATOR',
  /** A request without the Message-Authenticator its peer must send (RFC 2869 §5.14, BlastRADIUS). */
  missingMessageAuthenticator: 'MOAT_PORTAL_RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
  /** A datagram from an address that is not a configured server or client. */
  unknownPeer: 'MOAT_PORTAL_RADIUS_UNKNOWN_PEER',
  /** A packet code this side does not handle (an Access-Request sent to the CoA port, say). */
  unexpectedCode: 'MOAT_PORTAL_RADIUS_UNEXPECTED_CODE',
  /** No server answered, after every retransmission to every server. */
  timeout: 'MOAT_PORTAL_RADIUS_TIMEOUT',
  /** Too many requests outstanding: every identifier is taken and the queue is full. */
  busy: 'MOAT_PORTAL_RADIUS_BUSY',
  /** The client or listener was closed while a request was pending. */
  closed: 'MOAT_PORTAL_RADIUS_CLOSED',
  /** Bad options: no server, empty secret, bad address or port. */
  config: 'MOAT_PORTAL_RADIUS_CONFIG',
  /** The socket could not be bound. */
  bind: 'MOAT_PORTAL_RADIUS_BIND',
  /** A request whose Event-Timestamp is outside the accepted window (RFC 5176 replay protection). */
  replay: 'MOAT_PORTAL_RADIUS_REPLAY',
} as const;

export type RadiusErrorCode = (typeof RADIUS_ERROR)[keyof typeof RADIUS_ERROR];

/** A MoatError with one of the RADIUS codes. */
export function radiusError(code: RadiusErrorCode, message: string, cause?: unknown): MoatError {
  return new MoatError(code, message, cause === undefined ? undefined : { cause });
}
