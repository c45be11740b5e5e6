// The cover pass's needs (opt-cover.ts): per block, on entry, what every
// way on that can accept needs of the packet's length, met at a block's
// end from its successors' entries and grown back through its loads. A need
// is said as a base value number (opt-cover-numbers.ts; 0: none, the
// packet's start) and how many bytes past it a load reads.

/** How many (base, end) needs a block keeps: a way with more is rare, and forgetting one only keeps a load. */
const CAP = 6;

/** Per block id, on entry: what every way on that can accept needs (see `need`). */
let top = new Uint8Array(64);
let absNeed = new Float64Array(64);
let count = new Uint8Array(64);
let bases = new Int32Array(64 * CAP);
let ends = new Float64Array(64 * CAP);

/** Make room for a graph whose block ids are below `ids`. */
export function needsStart(ids: number): void {
  if (top.length >= ids) return;
  const n = Math.max(ids, 2 * top.length);
  top = new Uint8Array(n);
  absNeed = new Float64Array(n);
  count = new Uint8Array(n);
  bases = new Int32Array(n * CAP);
  ends = new Float64Array(n * CAP);
}

/**
 * What every way on from a point that can accept needs, as the walk goes
 * back through a block: `all` (every way rejects), else a packet at least
 * `abs` bytes long, and for each base value bases[i], at least its value
 * plus ends[i] bytes. Met at a block's end from its successors' entries.
 */
const need = { all: false, abs: 0, n: 0, bases: new Int32Array(CAP), ends: new Float64Array(CAP) };

/** `need` := the entry of block id. */
export function needFrom(id: number): void {
  need.all = top[id] === 1;
  need.abs = absNeed[id] ?? 0;
  need.n = count[id] ?? 0;
  for (let i = 0; i < need.n; i++) {
    need.bases[i] = bases[id * CAP + i] ?? 0;
    need.ends[i] = ends[id * CAP + i] ?? 0;
  }
}

/** Meet `need` with the entry of block id: what both ways need. */
export function meetWith(id: number): void {
  if (top[id] === 1) return;
  if (need.all) {
    needFrom(id);
    return;
  }
  need.abs = Math.min(need.abs, absNeed[id] ?? 0);
  let kept = 0;
  for (let i = 0; i < need.n; i++) {
    const b = need.bases[i] ?? 0;
    for (let j = 0; j < (count[id] ?? 0); j++) {
      if (bases[id * CAP + j] !== b) continue;
      need.bases[kept] = b;
      need.ends[kept++] = Math.min(need.ends[i] ?? 0, ends[id * CAP + j] ?? 0);
      break;
    }
  }
  need.n = kept;
}

/** Keep `need` as the entry of block id. */
export function needInto(id: number): void {
  top[id] = need.all ? 1 : 0;
  absNeed[id] = need.abs;
  count[id] = need.n;
  for (let i = 0; i < need.n; i++) {
    bases[id * CAP + i] = need.bases[i] ?? 0;
    ends[id * CAP + i] = need.ends[i] ?? 0;
  }
}

/** A load needing base's value plus `end` bytes (base 0: `end` bytes) is made on every way on. */
export function addNeed(base: number, end: number): void {
  if (need.all) return;
  if (base === 0) {
    need.abs = Math.max(need.abs, end);
    return;
  }
  for (let i = 0; i < need.n; i++) {
    if (need.bases[i] !== base) continue;
    need.ends[i] = Math.max(need.ends[i] ?? 0, end);
    return;
  }
  if (need.n < CAP) {
    need.bases[need.n] = base;
    need.ends[need.n++] = end;
  }
}

/** Would a packet too short for a load needing base's value plus `end` bytes be rejected on every way on? */
export function coveredBy(base: number, end: number): boolean {
  if (need.all) return true;
  if (base === 0) return need.abs >= end;
  for (let i = 0; i < need.n; i++) if (need.bases[i] === base) return (need.ends[i] ?? 0) >= end;
  return false;
}

/** At a return: every way on rejects (`ret #0`), or nothing is needed (it may accept). */
export function needNothing(rejects: boolean): void {
  need.all = rejects;
  need.abs = 0;
  need.n = 0;
}
