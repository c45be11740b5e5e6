import { isIPv6 } from 'node:net';

export interface LimitOptions {
  /** Connections open at once, from everyone. */
  maxConnections: number;
  /** Connections open at once from one address (one /64 for IPv6). */
  maxPerIp: number;
  /** Token bucket: new connections per second per address, and the burst allowed. */
  ratePerSecond: number;
  burst: number;
  /** Most addresses tracked at once; bounds the map whatever the traffic. */
  maxTracked?: number;
}

interface Peer {
  open: number;
  tokens: number;
  /** When tokens were last topped up, ms. */
  at: number;
}

export type Admission = 'ok' | 'global-cap' | 'ip-cap' | 'rate' | 'table-full';

/**
 * Admission control for new connections: a global cap, a per-address cap and
 * a per-address token bucket. The per-address table is bounded: idle entries
 * (nothing open, bucket full again) are swept, and when it is full of busy
 * addresses a new address is refused rather than the table grown.
 */
export class ConnectionLimiter {
  private readonly peers = new Map<string, Peer>();
  private readonly maxTracked: number;
  open = 0;

  constructor(private readonly options: LimitOptions) {
    this.maxTracked = options.maxTracked ?? 65536;
  }

  /** Try to admit a connection from `address`; on 'ok' the caller must call release() once. */
  admit(address: string, now = Date.now()): Admission {
    return this.admitKey(peerKey(address), now);
  }

  /** The key `address` is limited under (see peerKey); for admitKey and releaseKey. */
  keyOf(address: string): string {
    return peerKey(address);
  }

  /** admit() for a key from keyOf(), so a connection computes it once. */
  admitKey(key: string, now = Date.now()): Admission {
    if (this.open >= this.options.maxConnections) return 'global-cap';
    let p = this.peers.get(key);
    if (p === undefined) {
      if (this.peers.size >= this.maxTracked) {
        this.sweep(now);
        if (this.peers.size >= this.maxTracked) return 'table-full';
      }
      p = { open: 0, tokens: this.options.burst, at: now };
      this.peers.set(key, p);
    } else {
      this.refill(p, now);
    }
    if (p.open >= this.options.maxPerIp) return 'ip-cap';
    if (p.tokens < 1) return 'rate';
    p.tokens -= 1;
    p.open++;
    this.open++;
    return 'ok';
  }

  release(address: string): void {
    this.releaseKey(peerKey(address));
  }

  releaseKey(key: string): void {
    this.open = Math.max(0, this.open - 1);
    const p = this.peers.get(key);
    if (p !== undefined) p.open = Math.max(0, p.open - 1);
  }

  /** Drop entries that hold nothing: no open connection and a full bucket. */
  sweep(now = Date.now()): void {
    for (const [k, p] of this.peers) {
      this.refill(p, now);
      if (p.open === 0 && p.tokens >= this.options.burst) this.peers.delete(k);
    }
  }

  get tracked(): number {
    return this.peers.size;
  }

  private refill(p: Peer, now: number): void {
    const elapsed = Math.max(0, now - p.at) / 1000;
    p.tokens = Math.min(this.options.burst, p.tokens + elapsed * this.options.ratePerSecond);
    p.at = now;
  }
}

/**
 * The key an address is limited under: IPv4 as is (an IPv4-mapped IPv6
 * address is the IPv4 address), IPv6 by its /64, since one host usually
 * holds a whole /64 and could otherwise walk through 2^64 addresses.
 */
export function peerKey(address: string): string {
  if (!address.includes(':')) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] ?? address;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...zeros, ...t].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}
