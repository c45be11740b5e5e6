// What the optimizer proves that libpcap's does not: tests decided by the
// bits A can have (fold-bits.ts), values known to be one of a few
// (opt-facts.ts ONE_OF) or computed with a constant from one the path bound
// (opt-facts.ts derivedValues), tests passed where both their ways meet or
// every way rejects (opt-reject-ways.ts). With them a filter libpcap compiles may
// come out as `ret #0`, which the compiler refuses as rejecting every
// packet, as libpcap does its own: the compiler (index.ts) then optimizes
// again without them. One switch for all of them, and one note that any of
// them decided something.

let on = true;
let used = false;

/** Turn them all on or off, and forget what they decided. */
export function beyondLibpcap(enable: boolean): void {
  on = enable;
  used = false;
}

/** Are they on? */
export function beyondOn(): boolean {
  return on;
}

/** One of them decided something (they call this). */
export function usedBeyond(): void {
  used = true;
}

/** Did any of them decide something since beyondLibpcap() was last called? (If not, a second try would give the same.) */
export function usedBeyondLibpcap(): boolean {
  return used;
}
