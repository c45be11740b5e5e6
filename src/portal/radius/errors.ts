// The stable error codes of moat's RADIUS code. Callers (the daemon, its
// metrics, the tests) match on these, never on the message text.
import { MoatError, EX_CONFIG, EX_DATAERR, EX_UNAVAILABLE } from '../../core/index.js';

/** sysexits(3) EX_TEMPFAIL: try again later (core has no constant for it). */
const EX_TEMPFAIL = 75;

export const RADIUS_ERROR = {
  /** A datagram that is not a RADIUS packet: bad length, truncated attribute, noise. */
  malformed: 'MOAT_PORTAL_RADIUS_MALFORMED',
  /** An attribute whose value does not fit its type or its length limit. */
  badAttribute: 'MOAT_PORTAL_RADIUS_BAD_ATTRIBUTE',
  /** A packet we were asked to build would pass 4096 octets (RFC 2865 §3). */
  tooLong: 'MOAT_PORTAL_RADIUS_TOO_LONG',
  /** A request authenticator, response authenticator or Message-Authenticator did not verify. */
  badAuthenticator: 'MOAT_PORTAL_RADIUS_BAD_AUTHENTICATOR',
  /** A reply without the Message-Authenticator we require (RFC 2869 §5.14, BlastRADIUS). */
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
} as const;

export type RadiusErrorCode = (typeof RADIUS_ERROR)[keyof typeof RADIUS_ERROR];

const EXIT: Readonly<Record<RadiusErrorCode, number>> = {
  MOAT_PORTAL_RADIUS_MALFORMED: EX_DATAERR,
  MOAT_PORTAL_RADIUS_BAD_ATTRIBUTE: EX_DATAERR,
  MOAT_PORTAL_RADIUS_TOO_LONG: EX_DATAERR,
  MOAT_PORTAL_RADIUS_BAD_AUTHENTICATOR: EX_DATAERR,
  MOAT_PORTAL_RADIUS_MISSING_MESSAGE_AUTHENTICATOR: EX_DATAERR,
  MOAT_PORTAL_RADIUS_UNKNOWN_PEER: EX_DATAERR,
  MOAT_PORTAL_RADIUS_UNEXPECTED_CODE: EX_DATAERR,
  MOAT_PORTAL_RADIUS_TIMEOUT: EX_UNAVAILABLE,
  MOAT_PORTAL_RADIUS_BUSY: EX_TEMPFAIL,
  MOAT_PORTAL_RADIUS_CLOSED: EX_UNAVAILABLE,
  MOAT_PORTAL_RADIUS_CONFIG: EX_CONFIG,
  MOAT_PORTAL_RADIUS_BIND: EX_UNAVAILABLE,
};

/** A MoatError with one of the RADIUS codes and the exit status that goes with it. */
export function radiusError(code: RadiusErrorCode, message: string, cause?: unknown): MoatError {
  return new MoatError(code, message, cause === undefined ? { exitCode: EXIT[code] } : { exitCode: EXIT[code], cause });
}
