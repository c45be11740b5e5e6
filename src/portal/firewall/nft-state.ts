// Reading back moat's table from `nft -j list table` (libnftables-json(5)):
// the set and map elements with their counters and timeouts, and the
// limit/quota objects. The JSON is checked shape by shape; anything else in
// it is ignored rather than trusted.

export interface ElementState {
  /** The key's parts: ifname, MAC, address (or ifname, address). */
  key: string[];
  /** Object name for object maps. */
  data?: string;
  timeoutSec?: number;
  expiresSec?: number;
  packets?: bigint;
  bytes?: bigint;
}

export interface SetState {
  name: string;
  type: string;
  map?: string;
  flags: string[];
  counter: boolean;
  elements: ElementState[];
}

export interface LimitState {
  name: string;
  rate: number;
  per: string;
  rateUnit: string;
  burst: number;
  burstUnit: string;
  inv: boolean;
}

export interface QuotaState {
  name: string;
  bytes: bigint;
  used: bigint;
  inv: boolean;
}

export interface TableState {
  sets: Map<string, SetState>;
  limits: Map<string, LimitState>;
  quotas: Map<string, QuotaState>;
  chains: Map<string, { type?: string; hook?: string; prio?: number }>;
}

type J = Record<string, unknown>;

function obj(v: unknown): J | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as J) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function big(v: unknown): bigint | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : undefined;
}

/**
 * `JSON.parse` turns counters past 2^53 into inexact numbers; nft writes them
 * as plain integers, so quote every integer of 16 digits or more first and
 * read those as bigint.
 */
export function parseNftJson(text: string): unknown {
  const quoted = text.replace(/([:[,]\s*)(\d{16,})(?=\s*[,}\]])/g, '$1"#$2"');
  return JSON.parse(quoted, (_k, v: unknown) => (typeof v === 'string' && /^#\d+$/.test(v) ? BigInt(v.slice(1)) : v));
}

function bigOf(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  return big(v);
}

function keyParts(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  const o = obj(v);
  if (o === undefined) return undefined;
  const c = o.concat;
  if (Array.isArray(c) && c.every((x) => typeof x === 'string')) return c;
  return undefined;
}

function parseElement(raw: unknown): ElementState | undefined {
  // A map element is [key, data]; the key may be wrapped in {"elem": {...}}.
  let data: string | undefined;
  let k = raw;
  if (Array.isArray(raw)) {
    if (raw.length !== 2) return undefined;
    k = raw[0];
    data = str(raw[1]);
    if (data === undefined) return undefined;
  }
  const wrapped = obj(obj(k)?.elem);
  const val = wrapped === undefined ? k : wrapped.val;
  const key = keyParts(val);
  if (key === undefined) return undefined;
  const e: ElementState = { key };
  if (data !== undefined) e.data = data;
  if (wrapped !== undefined) {
    const t = num(wrapped.timeout);
    const x = num(wrapped.expires);
    if (t !== undefined) e.timeoutSec = t;
    if (x !== undefined) e.expiresSec = x;
    const c = obj(wrapped.counter);
    if (c !== undefined) {
      const p = bigOf(c.packets);
      const b = bigOf(c.bytes);
      if (p !== undefined) e.packets = p;
      if (b !== undefined) e.bytes = b;
    }
  }
  return e;
}

/** The state of one table from `nft -j list table inet NAME` output. */
export function parseTableState(text: string): TableState {
  const root = obj(parseNftJson(text));
  const list = root?.nftables;
  const st: TableState = { sets: new Map(), limits: new Map(), quotas: new Map(), chains: new Map() };
  if (!Array.isArray(list)) return st;
  for (const item of list) {
    const o = obj(item);
    if (o === undefined) continue;
    const s = obj(o.set) ?? obj(o.map);
    if (s !== undefined) {
      const name = str(s.name);
      if (name === undefined) continue;
      const type = Array.isArray(s.type) ? (s.type as unknown[]).map(String).join(' . ') : String(s.type);
      const flags = Array.isArray(s.flags) ? (s.flags as unknown[]).map(String) : [];
      const counter = Array.isArray(s.stmt) && (s.stmt as unknown[]).some((x) => obj(x)?.counter !== undefined);
      const elements: ElementState[] = [];
      if (Array.isArray(s.elem)) {
        for (const raw of s.elem as unknown[]) {
          const e = parseElement(raw);
          if (e !== undefined) elements.push(e);
        }
      }
      const set: SetState = { name, type, flags, counter, elements };
      const m = str(s.map);
      if (m !== undefined) set.map = m;
      st.sets.set(name, set);
      continue;
    }
    const l = obj(o.limit);
    if (l !== undefined) {
      const name = str(l.name);
      if (name === undefined) continue;
      st.limits.set(name, {
        name,
        rate: num(l.rate) ?? 0,
        per: str(l.per) ?? 'second',
        rateUnit: str(l.rate_unit) ?? 'bytes',
        burst: num(l.burst) ?? 0,
        burstUnit: str(l.burst_unit) ?? 'bytes',
        inv: l.inv === true,
      });
      continue;
    }
    const qt = obj(o.quota);
    if (qt !== undefined) {
      const name = str(qt.name);
      if (name === undefined) continue;
      st.quotas.set(name, { name, bytes: bigOf(qt.bytes) ?? 0n, used: bigOf(qt.used) ?? 0n, inv: qt.inv === true });
      continue;
    }
    const c = obj(o.chain);
    if (c !== undefined) {
      const name = str(c.name);
      if (name === undefined) continue;
      const info: { type?: string; hook?: string; prio?: number } = {};
      const ty = str(c.type);
      const hk = str(c.hook);
      const pr = num(c.prio);
      if (ty !== undefined) info.type = ty;
      if (hk !== undefined) info.hook = hk;
      if (pr !== undefined) info.prio = pr;
      st.chains.set(name, info);
    }
  }
  return st;
}
