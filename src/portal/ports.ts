// What the gateway needs from the RADIUS client (src/portal/radius) and the
// firewall (src/portal/firewall), as interfaces: the daemon wires the real
// modules in through small adapters, and the session logic depends on these
// shapes only.

// The RADIUS request and policy shapes are the radius module's own.
import type { AcctRequest, AuthRequest, DynamicRequest as RadiusDynamicRequest, SessionPolicy } from './radius/index.js';

export type { AcctRequest, AcctStatus, AuthRequest, Credentials, SessionPolicy } from './radius/index.js';

export interface AuthResult {
  accepted: boolean;
  replyMessage?: string;
  policy: SessionPolicy;
}

export interface Radius {
  authenticate(req: AuthRequest): Promise<AuthResult>;
  accounting(req: AcctRequest): Promise<void>;
  close(): Promise<void>;
}

/** RFC 5176 requests, as much of the listener's as the gateway uses to find and change a session. */
export type DynamicRequest = Pick<RadiusDynamicRequest, 'kind' | 'acctSessionId' | 'userName' | 'callingStationId' | 'framedIpAddress' | 'policy'>;

export type { DynamicAnswer } from './radius/index.js';

/** One authorised client in the firewall. */
export interface ClientKey {
  ifname: string;
  /** Lower case, colon separated. */
  mac: string;
  ipv4: string;
  /** The client's global IPv6 addresses the gateway knew at login; they share the session. */
  ipv6?: string[];
}

export interface ClientLimits {
  bandwidthUp?: number;
  bandwidthDown?: number;
  /** Bytes in both directions after which the kernel stops forwarding. */
  quotaBytes?: bigint;
}

export interface Counters {
  /** From the client. */
  bytesUp: bigint;
  bytesDown: bigint;
  packetsUp: bigint;
  packetsDown: bigint;
  /** The kernel's volume quota for this client is used up (the firewall stopped forwarding). */
  quotaExhausted?: boolean;
}

export interface Firewall {
  /** Create or re-create the ruleset, keeping clients already authorised. */
  setup(): Promise<void>;
  authorize(client: ClientKey, limits: ClientLimits): Promise<void>;
  /** Remove the client and flush its connection-tracking entries. */
  deauthorize(client: ClientKey): Promise<void>;
  setLimits(client: ClientKey, limits: ClientLimits): Promise<void>;
  /** Add IPv6 addresses a client started using after login to its elements (`client.ipv6`: the new ones only). */
  addAddresses(client: { ifname: string; mac: string; ipv6: string[] }, limits: ClientLimits): Promise<void>;
  /** Counters of every authorised client, keyed by MAC, in one read. */
  counters(): Promise<Map<string, Counters>>;
  /** What the kernel holds now (after a restart). */
  authorized(): Promise<ClientKey[]>;
  close(): Promise<void>;
}

/** RFC 2866 §5.10 Acct-Terminate-Cause values used here. */
export const TERMINATE_CAUSE = {
  userRequest: 1,
  lostCarrier: 2,
  idleTimeout: 4,
  sessionTimeout: 5,
  adminReset: 6,
  adminReboot: 7,
  nasRequest: 10,
} as const;

/** RFC 5176 §3.5 Error-Cause values used here. */
export const ERROR_CAUSE = {
  unsupportedAttribute: 401,
  missingAttribute: 402,
  invalidRequest: 404,
  sessionContextNotFound: 503,
  resourcesUnavailable: 506,
} as const;
