// In-memory stand-ins for the firewall and RADIUS, for the session and web
// logic; the end-to-end tests use nft and freeradius.
import assert from 'node:assert/strict';
import type { AcctRequest, AuthRequest, AuthResult, ClientKey, ClientLimits, Counters, Firewall, Radius } from '../../src/portal/ports.js';

export class MemoryFirewall implements Firewall {
  readonly clients = new Map<string, { key: ClientKey; limits: ClientLimits; counters: Counters }>();
  setup(): Promise<void> {
    return Promise.resolve();
  }
  authorize(key: ClientKey, limits: ClientLimits): Promise<void> {
    this.clients.set(key.mac, { key, limits, counters: { bytesUp: 0n, bytesDown: 0n, packetsUp: 0n, packetsDown: 0n } });
    return Promise.resolve();
  }
  deauthorize(key: ClientKey): Promise<void> {
    this.clients.delete(key.mac);
    return Promise.resolve();
  }
  setLimits(key: ClientKey, limits: ClientLimits): Promise<void> {
    const c = this.clients.get(key.mac);
    if (c) c.limits = limits;
    return Promise.resolve();
  }
  addAddresses(key: { mac: string; ipv6: string[] }): Promise<void> {
    const c = this.clients.get(key.mac);
    if (c) c.key = { ...c.key, ipv6: [...(c.key.ipv6 ?? []), ...key.ipv6] };
    return Promise.resolve();
  }
  counters(): Promise<Map<string, Counters>> {
    return Promise.resolve(new Map([...this.clients].map(([m, c]) => [m, { ...c.counters }])));
  }
  authorized(): Promise<ClientKey[]> {
    return Promise.resolve([...this.clients.values()].map((c) => c.key));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  traffic(mac: string, up: bigint, down: bigint): void {
    const c = this.clients.get(mac);
    assert.ok(c);
    c.counters = { bytesUp: c.counters.bytesUp + up, bytesDown: c.counters.bytesDown + down, packetsUp: c.counters.packetsUp + 1n, packetsDown: c.counters.packetsDown + 1n };
  }
}

export class RecordingRadius implements Radius {
  readonly acct: AcctRequest[] = [];
  readonly auth: AuthRequest[] = [];
  constructor(private readonly answer: (r: AuthRequest) => AuthResult) {}
  authenticate(r: AuthRequest): Promise<AuthResult> {
    this.auth.push(r);
    return Promise.resolve(this.answer(r));
  }
  accounting(r: AcctRequest): Promise<void> {
    this.acct.push(r);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

