// The firewall's public shapes, shared by the nftables and PF backends.
import type { ClientLimits, FirewallClient } from './client-key.js';

/** Where the portal sits and what it serves: what both backends' rulesets are rendered from. */
export interface PortalNetwork {
  lanInterface: string;
  gatewayV4: string;
  gatewayV6: string | undefined;
  webPort: number;
  httpsPort: number;
  dnsPort: number;
  preloginDnsPort: number;
  gardenV4: readonly string[];
  gardenV6: readonly string[];
}

export interface ClientCounters {
  ifname: string;
  /** From the client (RFC 2866 Acct-Input-Octets). */
  bytesUp: bigint;
  /** To the client (Acct-Output-Octets). */
  bytesDown: bigint;
  packetsUp: bigint;
  packetsDown: bigint;
  /** nftables: one of the client's quota objects is used up, so the kernel forwards nothing more (its counters may stop up to a GSO packet, ~64 KiB, short of the quota). */
  quotaExhausted?: boolean;
}

export interface AuthorizedClient {
  ifname: string;
  mac: string;
  ipv4?: string;
  ipv6: string[];
  /** Seconds until the kernel drops the client, when it was given a timeout. */
  expiresSec?: number;
}

/** The few logger methods the firewall uses (core's Logger has them). */
export interface FirewallLogger {
  warning(message: string, fields?: Record<string, string | number | boolean>): void;
}

export interface Firewall {
  /** Apply the ruleset; keeps clients already authorised; `restore` adds any the kernel lost. */
  setup(restore?: readonly (FirewallClient & ClientLimits)[]): Promise<void>;
  /** One transaction; counters start at zero. */
  authorize(client: FirewallClient, limits?: ClientLimits): Promise<void>;
  /** One transaction, then the client's connection-tracking entries (states) are flushed. */
  deauthorize(client: FirewallClient): Promise<void>;
  /**
   * Add addresses an authorised client started using (IPv6 privacy or SLAAC
   * addresses) to it, bound to the same interface and MAC, sharing its limits
   * and quotas; one transaction. `client` holds only the new addresses.
   */
  addAddresses(client: FirewallClient, limits: ClientLimits): Promise<void>;
  /** Change rates/quotas (CoA); counters kept. */
  setLimits(client: FirewallClient, limits: ClientLimits): Promise<void>;
  /** Every authorised client's counters, keyed by MAC, from one read. */
  counters(): Promise<Map<string, ClientCounters>>;
  authorized(): Promise<AuthorizedClient[]>;
  /** Open the walled garden to an address or network (a.b.c.d[/n], IPv6[/n]) at run time, in one change. */
  gardenAdd(entry: string): Promise<void>;
  gardenDel(entry: string): Promise<void>;
  /** Leaves the kernel state in place. */
  close(): Promise<void>;
  /** Removes moat's table/anchor and every client in it. */
  teardown(): Promise<void>;
}
