// The nftables backend: applies the ruleset, adds and removes clients as set
// elements in one batch each, and reads every counter in one `nft -j` call.
import { isIPv4, isIPv6 } from 'node:net';
import { MoatError } from '../../core/errors.js';
import { checkClient, checkIfname, checkLimits, checkMac, clientId, type CheckedClient, type ClientLimits, type FirewallClient } from './client-key.js';
import type { CommandRunner } from './command-runner.js';
import { ConntrackFlusher } from './conntrack.js';
import { ipBatchArgv, pinLine, unpinLine } from './neighbours.js';
import { FW_NFT, NftBatcher, firstLines } from './nft-batcher.js';
import {
  CLIENT_SETS,
  endedBit,
  renderAdd,
  renderApply,
  renderChainDeclarations,
  renderLimits,
  renderMapEntries,
  renderRemoveCounters,
  renderRemoveLimits,
  renderRules,
  renderSetDeclarations,
  q,
  type NftRulesetOptions,
} from './nft-ruleset.js';
import { splitGarden } from './garden.js';
import { parseTableState, type ElementState, type TableState } from './nft-state.js';
import type { AuthorizedClient, ClientCounters, Firewall, FirewallLogger } from './types.js';

export interface NftFirewallOptions extends NftRulesetOptions {
  runner: CommandRunner;
  nft: string;
  conntrack: string;
  /** ip(8) for pinning neighbour entries; undefined: do not pin. */
  ip: string | undefined;
  logger: FirewallLogger | undefined;
  /** How long the conntrack entries of an ended session stay (marked ended) before they are deleted; default 10 s. */
  conntrackGraceMs?: number;
}

export class NftFirewall implements Firewall {
  private readonly t: string;
  private readonly batcher: NftBatcher;
  private readonly flusher: ConntrackFlusher;
  private readonly neigh: NftBatcher | undefined;
  /**
   * Clients whose elements, or limit/quota objects, may be in the kernel (by id),
   * learnt from setup()'s read and kept since: a first login, the common case,
   * then needs no removal commands and its batch is just its elements.
   */
  private readonly mayHaveElements = new Set<string>();
  private readonly mayHaveLimits = new Set<string>();
  /** Garden entries added at run time; setup() refills the static garden sets with the configuration's and these. */
  private readonly extraGarden = new Set<string>();

  constructor(private readonly o: NftFirewallOptions) {
    this.t = `inet ${o.table}`;
    this.batcher = new NftBatcher(o.runner, o.nft);
    this.flusher = new ConntrackFlusher(o.runner, o.conntrack, { auth: o.markBit, ended: endedBit(o.markBit) }, o.conntrackGraceMs, 4, (message) => {
      o.logger?.warning('firewall: conntrack -D failed', { error: message });
    });
    this.neigh = o.ip === undefined ? undefined : new NftBatcher(o.runner, o.ip, 512, ipBatchArgv(o.ip));
  }

  /** nft processes started so far (each one a transaction). */
  get nftProcesses(): number {
    return this.batcher.processes;
  }

  async setup(restore: readonly (FirewallClient & ClientLimits)[] = []): Promise<void> {
    const before = await this.readState();
    if (before !== undefined) this.learn(before);
    const garden = splitGarden([...this.o.gardenV4, ...this.o.gardenV6, ...this.extraGarden]);
    const opts = { ...this.o, gardenV4: garden.v4, gardenV6: garden.v6 };
    let applied = false;
    if (before === undefined || this.compatible(before)) {
      const err = await this.batcher.runOnce(renderApply(opts));
      if (err === undefined) applied = true;
      else if (before === undefined) throw err;
      else this.o.logger?.warning('firewall: re-applying in place failed, re-creating the table', { error: err.message });
    }
    if (!applied) {
      // The table is from another layout: re-create it and put every element back, with its counters, in the same transaction.
      const state = (await this.readState()) ?? before;
      const script = `add table ${this.t}\ndelete table ${this.t}\n${renderApply(opts)}${state === undefined ? '' : this.renderRestore(state).join('\n')}\n`;
      const err = await this.batcher.runOnce(script);
      if (err !== undefined) throw err;
    }
    await this.flusher.sweep().catch((e: unknown) => {
      this.o.logger?.warning('firewall: cannot delete the conntrack entries of ended sessions', { error: e instanceof Error ? e.message : String(e) });
    });
    if (restore.length > 0) {
      const present = new Set((await this.authorized()).map((c) => `${c.ifname} ${c.mac}`));
      for (const c of restore) {
        const k = checkClient(c);
        if (!present.has(`${k.ifname} ${k.mac}`)) await this.authorize(c, c);
      }
    }
  }

  async authorize(client: FirewallClient, limits: ClientLimits = {}): Promise<void> {
    const c = checkClient(client);
    const l = checkLimits(limits);
    // Remove first so that a repeated login is a new session (counters from zero, new limits); one transaction either way.
    const lines = [
      ...(this.mayHaveLimits.has(c.id) ? renderRemoveLimits(this.t, c) : []),
      ...(this.mayHaveElements.has(c.id) ? renderRemoveCounters(this.t, c) : []),
      ...renderAdd(this.t, c, l),
      ...renderLimits(this.t, c, l),
    ];
    this.mayHaveElements.add(c.id);
    if (hasLimits(l)) this.mayHaveLimits.add(c.id);
    await this.batcher.apply(lines.join('\n'));
    // After the batch, so forwarding starts without waiting for it.
    if (this.neigh !== undefined) {
      try {
        await this.neigh.apply(addressesOf(c).map((a) => pinLine(a, c.mac, c.ifname)).join('\n'));
      } catch (e) {
        this.o.logger?.warning('firewall: cannot pin the neighbour entry', { mac: c.mac, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  async addAddresses(client: FirewallClient, limits: ClientLimits): Promise<void> {
    const c = checkClient(client);
    const l = checkLimits(limits);
    // The client's limit and quota objects exist already: only the new keys go into the maps, pointing at them.
    await this.batcher.apply([...renderAdd(this.t, c, l), ...renderMapEntries(this.t, c, l)].join('\n'));
    if (this.neigh !== undefined) {
      await this.neigh.apply(addressesOf(c).map((a) => pinLine(a, c.mac, c.ifname)).join('\n')).catch((e: unknown) => {
        this.o.logger?.warning('firewall: cannot pin the neighbour entry', { mac: c.mac, error: e instanceof Error ? e.message : String(e) });
      });
    }
  }

  async setLimits(client: FirewallClient, limits: ClientLimits): Promise<void> {
    const c = checkClient(client);
    const l = checkLimits(limits);
    if (hasLimits(l)) this.mayHaveLimits.add(c.id);
    await this.batcher.apply([...renderRemoveLimits(this.t, c), ...renderLimits(this.t, c, l)].join('\n'));
  }

  async deauthorize(client: FirewallClient): Promise<void> {
    const c = checkClient(client);
    await this.batcher.apply([...renderRemoveLimits(this.t, c), ...renderRemoveCounters(this.t, c)].join('\n'));
    this.mayHaveElements.delete(c.id);
    this.mayHaveLimits.delete(c.id);
    const addrs = addressesOf(c);
    // An entry that is not there is fine: -force goes on, and the error is not ours to report.
    await this.neigh?.apply(addrs.map((a) => unpinLine(a, c.ifname)).join('\n')).catch(() => undefined);
    try {
      await this.flusher.end(addrs);
    } catch (e) {
      // The client is already cut off; a failed update only means no resets: idle entries age out.
      this.o.logger?.warning('firewall: conntrack update failed', { mac: c.mac, error: e instanceof Error ? e.message : String(e) });
    }
  }

  async gardenAdd(entry: string): Promise<void> {
    const { v4, v6 } = splitGarden([entry]);
    const set = v4.length > 0 ? 'garden_static4' : 'garden_static6';
    const e = v4[0] ?? v6[0] ?? '';
    await this.batcher.apply(`add element ${this.t} ${set} { ${e} }`);
    this.extraGarden.add(e);
  }

  async gardenDel(entry: string): Promise<void> {
    const { v4, v6 } = splitGarden([entry]);
    const set = v4.length > 0 ? 'garden_static4' : 'garden_static6';
    const e = v4[0] ?? v6[0] ?? '';
    this.extraGarden.delete(e);
    // Not add-then-delete as for clients: nft 1.0.6 merges intervals on the add and then fails the delete.
    // An entry that is not there is what was asked for.
    const err = await this.batcher.runOnce(`delete element ${this.t} ${set} { ${e} }`);
    if (err !== undefined && !/No such file or directory|element does not exist/.test(err.message)) throw err;
  }

  async counters(): Promise<Map<string, ClientCounters>> {
    const st = await this.mustReadState();
    const out = new Map<string, ClientCounters>();
    const owner = new Map<string, string>(); // "ifname ip" → mac
    for (const name of ['up4', 'up6']) {
      for (const e of st.sets.get(name)?.elements ?? []) {
        const [ifname, mac, ip] = e.key;
        if (ifname === undefined || mac === undefined || ip === undefined) continue;
        owner.set(`${ifname} ${ip}`, mac);
        const c = out.get(mac) ?? { ifname, bytesUp: 0n, bytesDown: 0n, packetsUp: 0n, packetsDown: 0n };
        c.bytesUp += e.bytes ?? 0n;
        c.packetsUp += e.packets ?? 0n;
        out.set(mac, c);
      }
    }
    for (const [mac, c] of out) {
      const id = clientId(mac, c.ifname);
      for (const prefix of ['qt_', 'qu_', 'qd_']) {
        const qo = st.quotas.get(`${prefix}${id}`);
        // nft_quota: an "over" quota matches once the bytes it has seen reach its limit.
        if (qo !== undefined && qo.used >= qo.bytes) c.quotaExhausted = true;
      }
    }
    for (const name of ['down4', 'down6']) {
      for (const e of st.sets.get(name)?.elements ?? []) {
        const [ifname, ip] = e.key;
        const mac = owner.get(`${ifname ?? ''} ${ip ?? ''}`);
        const c = mac === undefined ? undefined : out.get(mac);
        if (c === undefined) continue;
        c.bytesDown += e.bytes ?? 0n;
        c.packetsDown += e.packets ?? 0n;
      }
    }
    return out;
  }

  async authorized(): Promise<AuthorizedClient[]> {
    return this.listClients(await this.mustReadState());
  }

  private listClients(st: TableState): AuthorizedClient[] {
    const byClient = new Map<string, AuthorizedClient>();
    for (const name of ['up4', 'up6']) {
      for (const e of st.sets.get(name)?.elements ?? []) {
        const [ifname, mac, ip] = e.key;
        if (ifname === undefined || mac === undefined || ip === undefined) continue;
        const k = `${ifname} ${mac}`;
        const c = byClient.get(k) ?? { ifname, mac, ipv6: [] };
        if (name === 'up4') c.ipv4 = ip;
        else c.ipv6.push(ip);
        if (e.expiresSec !== undefined) c.expiresSec = Math.min(c.expiresSec ?? Infinity, e.expiresSec);
        byClient.set(k, c);
      }
    }
    return [...byClient.values()];
  }

  close(): Promise<void> {
    // The table stays: authorised clients keep flowing while moat restarts.
    this.flusher.close();
    return Promise.resolve();
  }

  async teardown(): Promise<void> {
    if (this.neigh !== undefined) {
      const st = await this.readState();
      const lines: string[] = [];
      for (const c of st === undefined ? [] : this.listClients(st)) for (const a of [...(c.ipv4 === undefined ? [] : [c.ipv4]), ...c.ipv6]) lines.push(unpinLine(a, c.ifname));
      if (lines.length > 0) await this.neigh.apply(lines.join('\n')).catch(() => undefined);
    }
    const err = await this.batcher.runOnce(`add table ${this.t}\ndelete table ${this.t}\n`);
    if (err !== undefined) throw err;
  }

  /** The whole table in one call; undefined when it does not exist. */
  async readState(): Promise<TableState | undefined> {
    const r = await this.o.runner.run([this.o.nft, '-j', 'list', 'table', 'inet', this.o.table]);
    if (r.code !== 0) {
      if (r.stderr.includes('No such file or directory')) return undefined;
      throw new MoatError(FW_NFT, `nft -j list table failed: ${firstLines(r.stderr)}`);
    }
    return parseTableState(r.stdout);
  }

  private async mustReadState(): Promise<TableState> {
    const st = await this.readState();
    if (st === undefined) throw new MoatError(FW_NFT, `table inet ${this.o.table} does not exist (setup not run?)`);
    return st;
  }

  /** Note which clients the kernel holds elements or objects for. */
  private learn(st: TableState): void {
    for (const name of ['up4', 'up6']) {
      for (const e of st.sets.get(name)?.elements ?? []) {
        const [ifname, mac] = e.key;
        if (ifname !== undefined && mac !== undefined) this.mayHaveElements.add(clientId(mac, ifname));
      }
    }
    for (const name of [...st.limits.keys(), ...st.quotas.keys()]) this.mayHaveLimits.add(name.slice(3));
    // Map entries whose object is gone cannot exist; entries naming an object are covered by the object's id.
  }

  /** Does the kernel's table have the sets this version declares, with the same types? */
  private compatible(st: TableState): boolean {
    for (const s of CLIENT_SETS) {
      const have = st.sets.get(s.name);
      if (have === undefined) continue; // `add` creates it
      if (have.type !== s.key || have.map !== s.map || have.counter !== s.counter || !have.flags.includes('timeout')) return false;
    }
    const want = new Map([
      ['prerouting', 'filter prerouting'],
      ['dstnat', 'nat prerouting'],
      ['input', 'filter input'],
      ['forward', 'filter forward'],
      ['postrouting', 'filter postrouting'],
      ['srcnat', 'nat postrouting'],
    ]);
    for (const [name, info] of st.chains) {
      const w = want.get(name);
      const h = info.type === undefined ? undefined : `${info.type} ${info.hook ?? ''}`;
      if (w !== h) return false;
    }
    return true;
  }

  /** Commands that put back what `st` held: objects, then elements with counters and remaining timeouts. */
  private renderRestore(st: TableState): string[] {
    const out: string[] = [];
    for (const l of st.limits.values()) {
      if (!safeName(l.name)) continue;
      out.push(
        `add limit ${this.t} ${l.name} { rate ${l.inv ? 'over ' : ''}${String(l.rate)} ${l.rateUnit}/${l.per} burst ${String(l.burst)} ${l.burstUnit} }`,
      );
    }
    for (const qo of st.quotas.values()) {
      if (!safeName(qo.name)) continue;
      out.push(`add quota ${this.t} ${qo.name} { ${qo.inv ? 'over ' : ''}${String(qo.bytes)} bytes used ${String(qo.used)} bytes }`);
    }
    const names = [...CLIENT_SETS.map((s) => s.name), 'garden4', 'garden6'];
    for (const name of names) {
      for (const e of st.sets.get(name)?.elements ?? []) {
        const key = keyText(e);
        if (key === undefined) continue;
        if (e.data !== undefined && !safeName(e.data)) continue;
        const counter = e.packets === undefined || e.bytes === undefined ? '' : ` counter packets ${String(e.packets)} bytes ${String(e.bytes)}`;
        const timeout = e.expiresSec === undefined ? '' : ` timeout ${String(Math.max(1, Math.ceil(e.expiresSec)))}s`;
        const data = e.data === undefined ? '' : ` : ${q(e.data)}`;
        out.push(`add element ${this.t} ${name} { ${key}${counter}${timeout}${data} }`);
      }
    }
    return out;
  }
}

function safeName(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(s);
}

/** An element's key as nft input, each part checked again (it came from the kernel, but into a script it goes). */
function keyText(e: ElementState): string | undefined {
  try {
    const parts = e.key.map((p, i) => {
      if (isIPv4(p) || isIPv6(p)) return p;
      if (i === 1 && e.key.length === 3) return checkMac(p);
      if (i === 0 && e.key.length > 1) return q(checkIfname(p));
      throw new Error('bad part');
    });
    return parts.join(' . ');
  } catch {
    return undefined;
  }
}

// Re-exported for tests that render without a kernel.
export { renderChainDeclarations, renderRules, renderSetDeclarations };
export type { CheckedClient };

function hasLimits(l: ClientLimits): boolean {
  return l.bandwidthUp !== undefined || l.bandwidthDown !== undefined || l.quotaBytes !== undefined || l.quotaUp !== undefined || l.quotaDown !== undefined;
}

function addressesOf(c: CheckedClient): string[] {
  return [...(c.ipv4 === undefined ? [] : [c.ipv4]), ...c.ipv6];
}
