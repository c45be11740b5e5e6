// What the checker knows about a packet on one path: bits pinned by the
// branches taken (per byte, at a fixed or computed offset) and field values
// ruled out by them. Facts only ever hold of the packet, never of registers.
import type { Sym } from './abstract.js';

export interface Facts {
  /** Pinned packet bits: byte key (`base@offset`) → mask | value << 8. */
  bits: Map<string, number>;
  /** Ruled-out field values: `base@off:size&mask=value` is known false. */
  neq: Set<string>;
}

/** A packet field: a masked load. */
export type Field = Extract<Sym, { t: 'l' }>;

/** The bytes a field test pins: [byte key, mask, value]. */
export function fieldBytes(f: Field, value: number): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let b = 0; b < f.size; b++) {
    const shift = 8 * (f.size - 1 - b);
    const m = (f.mask >>> shift) & 0xff;
    if (m !== 0) out.push([`${f.base}@${String(f.off + b)}`, m, (value >>> shift) & m]);
  }
  return out;
}

/** A field's name: its bytes and mask. */
export const fieldKey = (f: Field): string => `${f.base}@${String(f.off)}:${String(f.size)}&${String(f.mask)}`;
const neqKey = (f: Field, value: number): string => `${fieldKey(f)}=${String(value)}`;

/** Add pinned bits; undefined when they contradict what is known (the path cannot happen). */
export function pin<T extends Facts>(s: T, f: Field, value: number): T | undefined {
  if ((value & ~f.mask) >>> 0 !== 0 || s.neq.has(neqKey(f, value))) return undefined;
  const bits = new Map(s.bits);
  for (const [o, m, v] of fieldBytes(f, value)) {
    const old = bits.get(o) ?? 0;
    const km = old & 0xff;
    const kv = old >>> 8;
    if (((kv ^ v) & km & m) !== 0) return undefined;
    bits.set(o, (km | m) | ((kv | v) << 8));
  }
  return { ...s, bits };
}

/** Record that (field == value) is false. */
export function rule<T extends Facts>(s: T, f: Field, value: number): T {
  const neq = new Set(s.neq);
  neq.add(neqKey(f, value));
  return { ...s, neq };
}

/** Is (field == value) known true, known false, or unknown? */
export function known(s: Facts, f: Field, value: number): boolean | undefined {
  if ((value & ~f.mask) >>> 0 !== 0 || s.neq.has(neqKey(f, value))) return false;
  let all = true;
  for (const [o, m, v] of fieldBytes(f, value)) {
    const k = s.bits.get(o) ?? 0;
    if ((((k >>> 8) ^ v) & (k & 0xff) & m) !== 0) return false;
    if (((k & 0xff) & m) !== m) all = false;
  }
  return all ? true : undefined;
}

/** Keep only the facts on the given bytes (and bits); forgetting facts is always sound. */
export function keepOnly(s: Facts, referenced: ReadonlyMap<string, number>): Facts {
  const bits = new Map<string, number>();
  for (const [o, v] of s.bits) {
    const m = (v & 0xff & (referenced.get(o) ?? 0));
    if (m !== 0) bits.set(o, m | (((v >>> 8) & m) << 8));
  }
  const neq = new Set([...s.neq].filter((k) => referenced.has(k.slice(0, k.lastIndexOf(':')))));
  return { bits, neq };
}

// Facts are never mutated once made (pin and rule copy), so their keys can be cached.
const bitsKeys = new WeakMap<Map<string, number>, string>();
const neqKeys = new WeakMap<Set<string>, string>();

export function factsKey(s: Facts): string {
  let b = bitsKeys.get(s.bits);
  if (b === undefined) {
    b = [...s.bits.keys()].sort().map((o) => `${o}:${String(s.bits.get(o))}`).join(' ');
    bitsKeys.set(s.bits, b);
  }
  let n = neqKeys.get(s.neq);
  if (n === undefined) {
    n = [...s.neq].sort().join(' ');
    neqKeys.set(s.neq, n);
  }
  return `${b}|${n}`;
}
