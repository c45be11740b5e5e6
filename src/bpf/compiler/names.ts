// Name lookup from the local databases only, as libpcap's nametoaddr.c does
// through the C library: /etc/hosts (hosts(5)), /etc/services (services(5)),
// /etc/protocols (protocols(5)), /etc/networks (networks(5)), /etc/ethers
// (ethers(5)). No DNS: a filter must compile the same way offline. Files are
// read once, bounded in size, and never followed through symlinks we create.
import { readFileSync } from 'node:fs';
import { parseIPv6 } from './ipv6-text.js';

const MAX_FILE = 4 * 1024 * 1024;

export interface NameDb {
  hosts(name: string): { v4: number[]; v6: number[][] };
  service(name: string, proto: 'tcp' | 'udp' | 'sctp'): number | undefined;
  protocol(name: string): number | undefined;
  network(name: string): number | undefined;
  ether(name: string): number[] | undefined;
}

function readLines(path: string): string[] {
  try {
    const text = readFileSync(path, { encoding: 'latin1' });
    return text.slice(0, MAX_FILE).split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '');
  } catch {
    return [];
  }
}

export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    v = v * 256 + Number(p);
  }
  return v >>> 0;
}

export function parseMac(text: string): number[] | null {
  const t = text.trim();
  let groups: string[];
  if (/^[0-9A-Fa-f]{12}$/.test(t)) groups = t.match(/../g) ?? [];
  else if (/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(t)) groups = t.replace(/\./g, '').match(/../g) ?? [];
  else if (/^[0-9A-Fa-f]{4}(:[0-9A-Fa-f]{4}){2}$/.test(t)) groups = t.replace(/:/g, '').match(/../g) ?? [];
  else groups = t.split(/[:.-]/);
  if (groups.length !== 6 || !groups.every((g) => /^[0-9A-Fa-f]{1,2}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

/**
 * Each file is read once and indexed by name on first use; a lookup is one
 * map access instead of a scan that split every line again. Where a name
 * appears on several lines the first one wins, as in a scan from the top
 * (hosts: every line naming it counts, in file order).
 */
export class FileNameDb implements NameDb {
  private cache = new Map<string, string[]>();
  /** hosts: lower-cased name without a trailing dot → the address of each line naming it. */
  private hostIndex: Map<string, string[]> | null = null;
  /** services: `proto NUL name` → port. */
  private serviceIndex: Map<string, number> | null = null;
  private protocolIndex: Map<string, number> | null = null;
  private networkIndex: Map<string, number> | null = null;
  private etherIndex: Map<string, number[]> | null = null;

  constructor(private readonly etc = '/etc') {}

  private lines(file: string): string[] {
    let l = this.cache.get(file);
    if (l === undefined) {
      l = readLines(`${this.etc}/${file}`);
      this.cache.set(file, l);
    }
    return l;
  }

  hosts(name: string): { v4: number[]; v6: number[][] } {
    this.hostIndex ??= indexHosts(this.lines('hosts'));
    const v4: number[] = [];
    const v6: number[][] = [];
    const want = name.toLowerCase().replace(/\.$/, '');
    for (const addr of this.hostIndex.get(want) ?? []) {
      const a4 = parseIPv4(addr);
      if (a4 !== null) {
        if (!v4.includes(a4)) v4.push(a4);
        continue;
      }
      const a6 = parseIPv6(addr.replace(/%.*/, ''));
      if (a6 !== null && !v6.some((x) => x.join() === a6.join())) v6.push(a6);
    }
    return { v4, v6 };
  }

  service(name: string, proto: 'tcp' | 'udp' | 'sctp'): number | undefined {
    this.serviceIndex ??= indexServices(this.lines('services'));
    return this.serviceIndex.get(`${proto}\0${name}`);
  }

  protocol(name: string): number | undefined {
    this.protocolIndex ??= indexFirst(this.lines('protocols'), (num) => (/^\d+$/.test(num) ? Number(num) : undefined));
    return this.protocolIndex.get(name);
  }

  network(name: string): number | undefined {
    this.networkIndex ??= indexFirst(this.lines('networks'), (addr) => {
      let v = 0;
      for (const p of addr.split('.')) v = v * 256 + Number(p);
      return v >>> 0;
    });
    return this.networkIndex.get(name);
  }

  ether(name: string): number[] | undefined {
    if (this.etherIndex === null) {
      this.etherIndex = new Map();
      for (const line of this.lines('ethers')) {
        const [mac, host] = line.split(/\s+/);
        if (mac === undefined || host === undefined || this.etherIndex.has(host)) continue;
        const m = parseMac(mac);
        if (m !== null) this.etherIndex.set(host, m);
      }
    }
    const m = this.etherIndex.get(name);
    // A copy: the caller owns what it gets, as when each lookup parsed the line.
    return m === undefined ? undefined : [...m];
  }
}

function indexHosts(lines: readonly string[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const line of lines) {
    const [addr, ...names] = line.split(/\s+/);
    if (addr === undefined) continue;
    const seen = new Set<string>();
    for (const n of names) {
      const key = n.toLowerCase().replace(/\.$/, '');
      // A line naming a host twice still gives its address once.
      if (seen.has(key)) continue;
      seen.add(key);
      const list = index.get(key);
      if (list === undefined) index.set(key, [addr]);
      else list.push(addr);
    }
  }
  return index;
}

function indexServices(lines: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  for (const line of lines) {
    const [svc, portProto, ...aliases] = line.split(/\s+/);
    if (svc === undefined || portProto === undefined) continue;
    const m = /^(\d+)\/(\w+)$/.exec(portProto);
    if (m === null) continue;
    for (const n of [svc, ...aliases]) {
      const key = `${m[2] ?? ''}\0${n}`;
      if (!index.has(key)) index.set(key, Number(m[1]));
    }
  }
  return index;
}

/** `name value aliases...` lines: each name (and alias) → value(second field) of its first line with a valid value. */
function indexFirst(lines: readonly string[], value: (field: string) => number | undefined): Map<string, number> {
  const index = new Map<string, number>();
  for (const line of lines) {
    const [n, field, ...aliases] = line.split(/\s+/);
    if (n === undefined || field === undefined) continue;
    const v = value(field);
    if (v === undefined) continue;
    for (const a of [n, ...aliases]) if (!index.has(a)) index.set(a, v);
  }
  return index;
}
