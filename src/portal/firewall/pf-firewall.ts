// The PF backend: the same Firewall interface, driven through pfctl(8).
// Every command is an argv array; the anchor goes in on stdin.
import { isIPv6 } from 'node:net';
import { MoatError } from '../../core/errors.js';
import { checkClient, checkLimits, type ClientLimits, type FirewallClient } from './client-key.js';
import type { CommandRunner } from './command-runner.js';
import { splitGarden } from './garden.js';
import { PF_AUTH_TABLE, PF_GARDEN_TABLE, pfGardenDnsTable, renderPfAnchor, type PfAnchorOptions, type PfFlavour } from './pf-anchor.js';
import { parsePfTableStats } from './pf-stats.js';
import type { AuthorizedClient, ClientCounters, Firewall, FirewallLogger } from './types.js';

export { pfGardenDnsTable, renderPfAnchor, type PfAnchorOptions, type PfFlavour } from './pf-anchor.js';
export { parsePfTableStats, type PfAddressStats } from './pf-stats.js';

export const FW_PFCTL = 'MOAT_PORTAL_FW_PFCTL';
export const FW_UNSUPPORTED = 'MOAT_PORTAL_FW_UNSUPPORTED';

export interface PfOptions extends Omit<PfAnchorOptions, 'anchor' | 'flavour' | 'divert'> {
  table: string;
  flavour: PfFlavour;
  divert: boolean;
  runner: CommandRunner;
  pfctl: string;
  logger: FirewallLogger | undefined;
}

/** The pfctl(8) argv for each operation (exported for tests and for the man page). */
export const pfArgv = {
  load: (pfctl: string, anchor: string): string[] => [pfctl, '-a', anchor, '-f', '-'],
  add: (pfctl: string, anchor: string, addrs: readonly string[]): string[] => [pfctl, '-a', anchor, '-t', PF_AUTH_TABLE, '-T', 'add', ...addrs],
  delete: (pfctl: string, anchor: string, addrs: readonly string[]): string[] => [pfctl, '-a', anchor, '-t', PF_AUTH_TABLE, '-T', 'delete', ...addrs],
  show: (pfctl: string, anchor: string): string[] => [pfctl, '-a', anchor, '-t', PF_AUTH_TABLE, '-T', 'show', '-v'],
  /** pfctl(8) -k: states from the address, then states to it (a prefix length of 0 is a wildcard). */
  killFrom: (pfctl: string, addr: string): string[] => [pfctl, '-k', addr],
  killTo: (pfctl: string, addr: string): string[] => [pfctl, '-k', isIPv6(addr) ? '::/0' : '0.0.0.0/0', '-k', addr],
  flush: (pfctl: string, anchor: string): string[] => [pfctl, '-a', anchor, '-F', 'all'],
  /** The garden names' table dnsmasq made in the main ruleset (pfctl(8) -T kill). */
  killGardenDns: (pfctl: string, anchor: string): string[] => [pfctl, '-t', pfGardenDnsTable(anchor), '-T', 'kill'],
  gardenAdd: (pfctl: string, anchor: string, addrs: readonly string[]): string[] => [pfctl, '-a', anchor, '-t', PF_GARDEN_TABLE, '-T', 'add', ...addrs],
  gardenDel: (pfctl: string, anchor: string, addrs: readonly string[]): string[] => [pfctl, '-a', anchor, '-t', PF_GARDEN_TABLE, '-T', 'delete', ...addrs],
};

export class PfFirewall implements Firewall {
  /** address → client, for counters keyed by MAC (PF tables hold addresses only). */
  private readonly owners = new Map<string, { ifname: string; mac: string }>();

  constructor(private readonly o: PfOptions) {}

  private async pfctl(argv: string[], input?: string): Promise<string> {
    const r = await this.o.runner.run(argv, input);
    if (r.code !== 0) throw new MoatError(FW_PFCTL, `${argv.join(' ')}: ${r.stderr.trim().slice(0, 500)}`);
    return r.stdout;
  }

  anchorText(): string {
    return renderPfAnchor({ ...this.o, anchor: this.o.table });
  }

  async setup(restore: readonly (FirewallClient & ClientLimits)[] = []): Promise<void> {
    await this.pfctl(pfArgv.load(this.o.pfctl, this.o.table), this.anchorText());
    const present = new Set((await this.stats()).map((s) => s.address));
    for (const c of restore) {
      const k = checkClient(c);
      const addrs = this.addressesOf(k);
      for (const a of addrs) this.owners.set(a, { ifname: k.ifname, mac: k.mac });
      const missing = addrs.filter((a) => !present.has(a));
      if (missing.length > 0) await this.pfctl(pfArgv.add(this.o.pfctl, this.o.table, missing));
    }
  }

  async authorize(client: FirewallClient, limits: ClientLimits = {}): Promise<void> {
    const c = checkClient(client);
    this.refuseLimits(checkLimits(limits));
    const addrs = this.addressesOf(c);
    // Delete first (its "0/1 addresses deleted" is fine) so the new entry's counters start at zero.
    await this.o.runner.run(pfArgv.delete(this.o.pfctl, this.o.table, addrs));
    await this.pfctl(pfArgv.add(this.o.pfctl, this.o.table, addrs));
    for (const a of addrs) this.owners.set(a, { ifname: c.ifname, mac: c.mac });
  }

  async addAddresses(client: FirewallClient, limits: ClientLimits): Promise<void> {
    const c = checkClient(client);
    this.refuseLimits(checkLimits(limits));
    const addrs = this.addressesOf(c);
    await this.pfctl(pfArgv.add(this.o.pfctl, this.o.table, addrs));
    for (const a of addrs) this.owners.set(a, { ifname: c.ifname, mac: c.mac });
  }

  async deauthorize(client: FirewallClient): Promise<void> {
    const c = checkClient(client);
    const addrs = this.addressesOf(c);
    await this.pfctl(pfArgv.delete(this.o.pfctl, this.o.table, addrs));
    for (const a of addrs) {
      this.owners.delete(a);
      await this.pfctl(pfArgv.killFrom(this.o.pfctl, a));
      await this.pfctl(pfArgv.killTo(this.o.pfctl, a));
    }
  }

  setLimits(client: FirewallClient, limits: ClientLimits): Promise<void> {
    checkClient(client);
    try {
      this.refuseLimits(checkLimits(limits));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return Promise.resolve();
  }

  async gardenAdd(entry: string): Promise<void> {
    const { v4, v6 } = splitGarden([entry]);
    await this.pfctl(pfArgv.gardenAdd(this.o.pfctl, this.o.table, [...v4, ...v6]));
  }

  async gardenDel(entry: string): Promise<void> {
    const { v4, v6 } = splitGarden([entry]);
    await this.pfctl(pfArgv.gardenDel(this.o.pfctl, this.o.table, [...v4, ...v6]));
  }

  async counters(): Promise<Map<string, ClientCounters>> {
    const out = new Map<string, ClientCounters>();
    for (const s of await this.stats()) {
      const owner = this.owners.get(s.address);
      if (owner === undefined) continue;
      const c = out.get(owner.mac) ?? { ifname: owner.ifname, bytesUp: 0n, bytesDown: 0n, packetsUp: 0n, packetsDown: 0n };
      // pf(4) counts a state's packets on the table entry of the rule's source: In = from the client, Out = replies to it.
      c.bytesUp += s.inPassBytes;
      c.packetsUp += s.inPassPackets;
      c.bytesDown += s.outPassBytes;
      c.packetsDown += s.outPassPackets;
      out.set(owner.mac, c);
    }
    return out;
  }

  async authorized(): Promise<AuthorizedClient[]> {
    const byMac = new Map<string, AuthorizedClient>();
    for (const s of await this.stats()) {
      const owner = this.owners.get(s.address) ?? { ifname: this.o.lanInterface, mac: '' };
      const key = owner.mac === '' ? `?${s.address}` : owner.mac;
      const c = byMac.get(key) ?? { ifname: owner.ifname, mac: owner.mac, ipv6: [] };
      if (isIPv6(s.address)) c.ipv6.push(s.address);
      else c.ipv4 = s.address;
      byMac.set(key, c);
    }
    return [...byMac.values()];
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  async teardown(): Promise<void> {
    await this.pfctl(pfArgv.flush(this.o.pfctl, this.o.table));
    // Absent until dnsmasq first resolved a garden name: not an error.
    await this.o.runner.run(pfArgv.killGardenDns(this.o.pfctl, this.o.table));
  }

  private async stats(): Promise<ReturnType<typeof parsePfTableStats>> {
    return parsePfTableStats(await this.pfctl(pfArgv.show(this.o.pfctl, this.o.table)));
  }

  private addressesOf(c: { ipv4: string | undefined; ipv6: readonly string[] }): string[] {
    return [...(c.ipv4 === undefined ? [] : [c.ipv4]), ...c.ipv6];
  }

  /** Rates cannot be had per table entry (see pf-anchor.ts); quotas are the daemon's, from the counters. */
  private refuseLimits(l: ClientLimits): void {
    if (l.bandwidthUp !== undefined || l.bandwidthDown !== undefined) {
      throw new MoatError(FW_UNSUPPORTED, 'the PF backend cannot enforce a per-client bandwidth (WISPr-Bandwidth-Max-Up/Down); use the nft backend, or send no bandwidth for this NAS');
    }
  }
}
