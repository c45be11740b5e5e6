// Name lookup from the local databases only, as libpcap's nametoaddr.c does
// through the C library: /etc/hosts (hosts(5)), /etc/services (services(5)),
// /etc/protocols (protocols(5)), /etc/networks (networks(5)), /etc/ethers
// (ethers(5)). No DNS: a filter must compile the same way offline. Files are
// read once, bounded in size, and never followed through symlinks we create.
import { readFileSync } from 'node:fs';
import { parseIPv6 } from './lexer.js';

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

export class FileNameDb implements NameDb {
  private cache = new Map<string, string[]>();

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
    const v4: number[] = [];
    const v6: number[][] = [];
    const want = name.toLowerCase().replace(/\.$/, '');
    for (const line of this.lines('hosts')) {
      const [addr, ...names] = line.split(/\s+/);
      if (addr === undefined || !names.some((n) => n.toLowerCase().replace(/\.$/, '') === want)) continue;
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
    for (const line of this.lines('services')) {
      const [svc, portProto, ...aliases] = line.split(/\s+/);
      if (svc === undefined || portProto === undefined) continue;
      const m = /^(\d+)\/(\w+)$/.exec(portProto);
      if (m?.[2] !== proto) continue;
      if (svc === name || aliases.includes(name)) return Number(m[1]);
    }
    return undefined;
  }

  protocol(name: string): number | undefined {
    for (const line of this.lines('protocols')) {
      const [p, num, ...aliases] = line.split(/\s+/);
      if (p === undefined || num === undefined || !/^\d+$/.test(num)) continue;
      if (p === name || aliases.includes(name)) return Number(num);
    }
    return undefined;
  }

  network(name: string): number | undefined {
    for (const line of this.lines('networks')) {
      const [n, addr, ...aliases] = line.split(/\s+/);
      if (n === undefined || addr === undefined) continue;
      if (n !== name && !aliases.includes(name)) continue;
      const parts = addr.split('.');
      let v = 0;
      for (const p of parts) v = v * 256 + Number(p);
      return v >>> 0;
    }
    return undefined;
  }

  ether(name: string): number[] | undefined {
    for (const line of this.lines('ethers')) {
      const [mac, host] = line.split(/\s+/);
      if (mac === undefined || host !== name) continue;
      const m = parseMac(mac);
      if (m !== null) return m;
    }
    return undefined;
  }
}
