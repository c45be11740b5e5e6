// The gateway's session logic: login and logout, the accounting loop, RFC 5176
// requests and the reconciliation after a restart. It drives the RADIUS
// client and the firewall through the interfaces in ports.ts.
import { MoatError, errorMessage, type Logger } from '../core/index.js';
import { Coalesced } from './coalesced.js';
import type { PortalMetrics } from './metrics.js';
import { ERROR_CAUSE, TERMINATE_CAUSE, type ClientKey, type Counters, type Credentials, type DynamicAnswer, type DynamicRequest, type Firewall, type Radius, type SessionPolicy } from './ports.js';
import { endCause, interimDue, kernelQuota, newSession, newSessionId, observe, sessionTime, type Defaults, type Session, type SessionKind } from './session.js';
import type { SessionStore } from './session-store.js';

export interface GatewayOptions {
  radius: Radius;
  firewall: Firewall;
  store: SessionStore;
  logger: Logger;
  metrics: PortalMetrics;
  defaults: Defaults;
  /** Called-Station-Id: CoovaChilli sends the LAN interface's MAC; we send the NAS-Identifier's name. */
  calledStationId: string;
  now?: () => number;
  /** The client's global IPv6 addresses, authorised with its IPv4 address (when the gateway has IPv6). */
  ipv6Of?: (mac: string) => Promise<string[]>;
}

export type LoginResult = { ok: true; session: Session } | { ok: false; reason: 'rejected' | 'timeout' | 'error'; replyMessage?: string };

/** RFC 3580 §3.21: Calling-Station-Id is the MAC in IEEE 802 form, upper-case, hyphens. */
export function stationId(mac: string): string {
  return mac.toUpperCase().replace(/:/g, '-');
}

export class Gateway {
  private readonly o: GatewayOptions;
  private readonly now: () => number;
  /** Per MAC, the last login queued and how many wait: a second login for the same MAC waits its turn. */
  private readonly busy = new Map<string, { last: Promise<unknown>; waiting: number }>();
  /**
   * Every login reads the kernel's counters for its baseline, before its
   * element is made (one `nft -j list table`): concurrent logins, logouts
   * and ticks share a read that began after they asked, instead of one
   * process each.
   */
  private readonly counterReads: Coalesced<Map<string, Counters>>;
  defaults: Defaults;

  constructor(options: GatewayOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.defaults = options.defaults;
    this.counterReads = new Coalesced(() => options.firewall.counters());
  }

  get store(): SessionStore {
    return this.o.store;
  }

  /** Ask RADIUS; on Accept put the client in the firewall and start accounting. */
  async login(client: ClientKey, credentials: Credentials, kind: SessionKind = 'radius'): Promise<LoginResult> {
    // One login per MAC at a time. A second one (the user's form while the
    // device's MAC authentication is asked in the background, a double
    // submit) waits for the first and then sees what it left, such as the
    // session it opened; refusing it instead failed a user who had typed the
    // right password. At most MAX_WAITING wait: the web's per-MAC rate limit
    // and MAC authentication's once a minute keep it far below that.
    const entry = this.busy.get(client.mac);
    if (entry !== undefined && entry.waiting >= MAX_WAITING) return { ok: false, reason: 'error', replyMessage: 'a login for this device is under way' };
    const slot = entry ?? { last: Promise.resolve(), waiting: 0 };
    slot.waiting++;
    const run = slot.last.then(() => this.loginNow(client, credentials, kind));
    slot.last = run.catch(() => undefined);
    this.busy.set(client.mac, slot);
    try {
      return await run;
    } finally {
      if (--slot.waiting === 0) this.busy.delete(client.mac);
    }
  }

  private async loginNow(client: ClientKey, credentials: Credentials, kind: SessionKind): Promise<LoginResult> {
    const existing = this.o.store.byMacAddress(client.mac);
    // MAC authentication is asked in the background for a device seen
    // without a session; one that waited behind the user's own login (a
    // redirected request that came in just before it) finds the device
    // online and leaves it so: ending the user's session for the device's
    // MAC account would log out the person who just typed a password.
    if (existing !== undefined && kind === 'mac') return { ok: true, session: existing };
    if (existing !== undefined) {
      const same = existing.client.ipv4 === client.ipv4 && existing.client.ifname === client.ifname;
      if (same && existing.userName === credentials.userName) return { ok: true, session: existing };
      // Another user on this device, or the device with a new address: the old session ends first.
      await this.logout(existing, same ? TERMINATE_CAUSE.userRequest : TERMINATE_CAUSE.lostCarrier);
    }
    const acctSessionId = newSessionId(this.now());
    const started = performance.now();
    let result;
    try {
      result = await this.o.radius.authenticate({
        credentials,
        callingStationId: stationId(client.mac),
        calledStationId: this.o.calledStationId,
        framedIpAddress: client.ipv4,
        acctSessionId,
      });
    } catch (e) {
      const timeout = isRadiusTimeout(e);
      if (timeout) this.o.metrics.radiusTimeouts++;
      else this.o.metrics.radiusErrors++;
      this.o.logger.warning('RADIUS authentication failed', { mac: client.mac, user: credentials.userName, error: errorMessage(e) });
      return { ok: false, reason: timeout ? 'timeout' : 'error' };
    }
    this.o.metrics.observeRtt('auth', performance.now() - started);
    if (!result.accepted) {
      this.o.metrics.loginsRejected++;
      this.o.logger.notice('login rejected', { mac: client.mac, ip: client.ipv4, user: credentials.userName, method: credentials.kind });
      return result.replyMessage === undefined ? { ok: false, reason: 'rejected' } : { ok: false, reason: 'rejected', replyMessage: result.replyMessage };
    }
    let session: Session;
    try {
      session = await this.open(client, credentials.userName, kind, result.policy, acctSessionId);
    } catch (e) {
      // RADIUS said yes to limits this firewall cannot enforce (a bandwidth under PF): refused, not let through unlimited.
      if (!isUnsupported(e)) throw e;
      this.o.metrics.loginsRejected++;
      this.o.logger.warning('login refused: the firewall cannot enforce the session', { mac: client.mac, user: credentials.userName, error: errorMessage(e) });
      return { ok: false, reason: 'error', replyMessage: 'This network cannot apply the limits of your account; ask its operator.' };
    }
    this.o.metrics.loginsAccepted++;
    return { ok: true, session };
  }

  /** Online without RADIUS authentication: trusted MACs and `query authorize`. */
  async authorizeLocal(client: ClientKey, userName: string, kind: 'trusted' | 'admin'): Promise<Session> {
    const existing = this.o.store.byMacAddress(client.mac);
    if (existing !== undefined) {
      if (existing.client.ipv4 === client.ipv4) return existing;
      await this.logout(existing, TERMINATE_CAUSE.lostCarrier);
    }
    return this.open(client, userName, kind, {}, newSessionId(this.now()));
  }

  private async open(key: ClientKey, userName: string, kind: SessionKind, policy: SessionPolicy, id: string): Promise<Session> {
    const now = this.now();
    const ipv6 = this.o.ipv6Of === undefined ? [] : await this.o.ipv6Of(key.mac).catch(() => []);
    const client: ClientKey = ipv6.length === 0 ? key : { ...key, ipv6 };
    // The baseline is what the kernel counted for this MAC before the
    // element is made: a new element counts from zero, so what passes between
    // its creation and the first reading is this session's (read after, as
    // before, it was lost: hundreds of ms in a crowd); an element that
    // survived with its counters is not counted twice, and one that was made
    // anew reads lower than the baseline, which observe() takes as a reset.
    const before = (await this.counterReads.run()).get(client.mac);
    // The kernel first: the login is done when traffic flows.
    await this.o.firewall.authorize(client, limitsOf(policy));
    const session: Session = { ...newSession({ client, userName, kind, policy, now }), id };
    if (before !== undefined) session.lastKernel = before;
    // Marked before it is sent and written before the Start goes out: after a
    // crash a restart never sends a second Start for this session.
    session.startSent = true;
    this.o.store.put(session);
    await this.o.store.save();
    this.o.logger.info('session started', { id, mac: client.mac, ip: client.ipv4, user: userName, kind });
    void this.account(session, 'start');
    return session;
  }

  /** End a session: out of the firewall (connections flushed), Accounting-Stop, forgotten. */
  async logout(session: Session, cause: number): Promise<void> {
    if (this.o.store.byMacAddress(session.client.mac) !== session) return;
    this.o.store.remove(session);
    try {
      const kernel = (await this.counterReads.run()).get(session.client.mac);
      if (kernel !== undefined) observe(session, kernel, this.now());
    } catch (e) {
      this.o.logger.warning('cannot read counters', { error: errorMessage(e) });
    }
    try {
      await this.o.firewall.deauthorize(session.client);
    } catch (e) {
      this.o.logger.error('cannot remove client from the firewall', { mac: session.client.mac, error: errorMessage(e) });
    }
    await this.o.store.save();
    this.o.metrics.ended(cause);
    this.o.logger.info('session ended', { id: session.id, mac: session.client.mac, user: session.userName, cause, seconds: sessionTime(session, this.now()) });
    await this.account(session, 'stop', cause);
  }

  /**
   * Addresses clients started using after login (IPv6 privacy and SLAAC
   * addresses, seen in the neighbour table with the client's MAC on its
   * interface) join their sessions: same counters' owner, same limits, and
   * they leave with the session. `seen`: MAC → global IPv6 addresses.
   */
  async adoptAddresses(ifname: string, seen: ReadonlyMap<string, readonly string[]>): Promise<number> {
    let added = 0;
    for (const s of this.o.store.all()) {
      if (s.client.ifname !== ifname) continue;
      const have = new Set(s.client.ipv6 ?? []);
      const fresh = (seen.get(s.client.mac) ?? []).filter((a) => !have.has(a)).slice(0, Math.max(0, MAX_IPV6 - have.size));
      if (fresh.length === 0) continue;
      // The session holds them before the firewall does: a logout meanwhile removes them too (its batch follows this one).
      const before = s.client;
      s.client = { ...s.client, ipv6: [...have, ...fresh] };
      try {
        await this.o.firewall.addAddresses({ ifname: s.client.ifname, mac: s.client.mac, ipv6: fresh }, limitsOf(s.policy));
      } catch (e) {
        s.client = before;
        this.o.logger.warning('cannot add addresses to the session', { id: s.id, mac: s.client.mac, error: errorMessage(e) });
        continue;
      }
      added += fresh.length;
      this.o.logger.info('address added to session', { id: s.id, mac: s.client.mac, ipv6: fresh.join(',') });
    }
    if (added > 0) await this.o.store.save();
    return added;
  }

  /** One pass of the accounting loop: counters, limits, interim updates. */
  async tick(): Promise<void> {
    const sessions = this.o.store.all();
    if (sessions.length === 0) return;
    const counters = await this.counterReads.run();
    const now = this.now();
    const ending: [Session, number][] = [];
    const interims: Session[] = [];
    for (const s of sessions) {
      const k = counters.get(s.client.mac);
      if (k !== undefined) observe(s, k, now);
      const cause = endCause(s, now, this.defaults);
      if (cause !== undefined) ending.push([s, cause]);
      else if (interimDue(s, now, this.defaults)) {
        s.lastInterim = now;
        interims.push(s);
      }
    }
    // Written when accounting reports something: a journal that lags the
    // kernel loses nothing, as the next reading after a restart carries every
    // byte since the totals and kernel readings it holds (saved together).
    if (interims.length > 0) await this.o.store.save();
    for (const [s, cause] of ending) await this.logout(s, cause);
    await Promise.all(interims.map((s) => this.account(s, 'interim')));
  }

  /** RFC 5176: find the session the request names; Disconnect ends it, CoA changes it. */
  async dynamic(req: DynamicRequest): Promise<DynamicAnswer> {
    this.o.metrics.coaRequests++;
    const s = this.find(req);
    if (s === undefined) return { ack: false, errorCause: ERROR_CAUSE.sessionContextNotFound };
    if (req.kind === 'disconnect') {
      await this.logout(s, TERMINATE_CAUSE.adminReset);
      return { ack: true };
    }
    const policy = { ...s.policy, ...req.policy };
    try {
      await this.o.firewall.setLimits(s.client, limitsOf(policy));
      s.policy = policy;
    } catch (e) {
      this.o.logger.error('CoA: cannot change limits', { id: s.id, error: errorMessage(e) });
      return { ack: false, errorCause: ERROR_CAUSE.resourcesUnavailable };
    }
    await this.o.store.save();
    this.o.logger.info('CoA applied', { id: s.id, mac: s.client.mac });
    return { ack: true };
  }

  private find(req: DynamicRequest): Session | undefined {
    const all = this.o.store.all();
    const matches = all.filter(
      (s) =>
        (req.acctSessionId === undefined || s.id === req.acctSessionId) &&
        (req.userName === undefined || s.userName === req.userName) &&
        (req.callingStationId === undefined || stationId(s.client.mac) === req.callingStationId.toUpperCase().replace(/:/g, '-')) &&
        (req.framedIpAddress === undefined || s.client.ipv4 === req.framedIpAddress),
    );
    const named = req.acctSessionId !== undefined || req.userName !== undefined || req.callingStationId !== undefined || req.framedIpAddress !== undefined;
    return named && matches.length === 1 ? matches[0] : undefined;
  }

  /**
   * After a start: the journal and the kernel agree on who is online. A
   * session the kernel lost (firewall reload, reboot) is put back; an element
   * without a session (a crash between the two writes) is removed.
   */
  async restore(): Promise<{ kept: number; readded: number; dropped: number }> {
    const inKernel = await this.o.firewall.authorized();
    const seen = new Set(inKernel.map((c) => `${c.ifname}|${c.mac}|${c.ipv4}`));
    // All at once: the firewall batches concurrent changes into a few nft
    // and ip processes, where one await per session would run two processes
    // per session (1,000 sessions: 10 s and tens of MB of garbage at start).
    const lost = this.o.store.all().filter((s) => !seen.has(`${s.client.ifname}|${s.client.mac}|${s.client.ipv4}`));
    const orphans = inKernel.filter((c) => {
      const s = this.o.store.byMacAddress(c.mac);
      return s?.client.ipv4 !== c.ipv4 || s.client.ifname !== c.ifname;
    });
    await Promise.all(lost.map((s) => this.o.firewall.authorize(s.client, limitsOf(s.policy))));
    await Promise.all(orphans.map((c) => this.o.firewall.deauthorize(c)));
    const readded = lost.length;
    const dropped = orphans.length;
    return { kept: this.o.store.size - readded, readded, dropped };
  }

  private async account(s: Session, statusType: 'start' | 'interim' | 'stop', terminateCause?: number): Promise<void> {
    const started = performance.now();
    try {
      await this.o.radius.accounting({
        statusType,
        acctSessionId: s.id,
        userName: s.userName,
        callingStationId: stationId(s.client.mac),
        framedIpAddress: s.client.ipv4,
        sessionTime: sessionTime(s, this.now()),
        inputOctets: s.totals.bytesUp,
        outputOctets: s.totals.bytesDown,
        inputPackets: s.totals.packetsUp,
        outputPackets: s.totals.packetsDown,
        ...(terminateCause === undefined ? {} : { terminateCause }),
        ...(s.policy.class === undefined ? {} : { class: s.policy.class }),
      });
      this.o.metrics.acctRequests++;
      this.o.metrics.observeRtt('acct', performance.now() - started);
    } catch (e) {
      if (isRadiusTimeout(e)) this.o.metrics.radiusTimeouts++;
      else this.o.metrics.radiusErrors++;
      this.o.logger.warning(`Accounting-${statusType} failed`, { id: s.id, error: errorMessage(e) });
    }
  }
}

/** Logins of one MAC that may wait for the one under way. */
const MAX_WAITING = 4;

/** At most this many IPv6 addresses per session (the firewall takes 64). */
const MAX_IPV6 = 16;

function limitsOf(p: SessionPolicy): { bandwidthUp?: number; bandwidthDown?: number; quotaBytes?: bigint } {
  const q = kernelQuota(p);
  return {
    ...(p.bandwidthUp === undefined ? {} : { bandwidthUp: p.bandwidthUp }),
    ...(p.bandwidthDown === undefined ? {} : { bandwidthDown: p.bandwidthDown }),
    ...(q === undefined ? {} : { quotaBytes: q }),
  };
}

/** The firewall cannot enforce what RADIUS asked for (src/portal/firewall/pf-firewall.ts). */
function isUnsupported(e: unknown): boolean {
  if (!(e instanceof MoatError)) return false;
  const code: string = e.code;
  return code === 'MOAT_PORTAL_FW_UNSUPPORTED';
}

/** R's client rejects with this code when no server answered (src/portal/radius/errors.ts). */
function isRadiusTimeout(e: unknown): boolean {
  if (!(e instanceof MoatError)) return false;
  const code: string = e.code;
  return code === 'MOAT_PORTAL_RADIUS_TIMEOUT';
}
