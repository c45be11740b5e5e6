// A small seeded PRNG (mulberry32) for property tests, fuzzing and benchmark
// data: the same seed gives the same sequence, so a failure reproduces.

export type Rng = () => number;

/** Uniform in [0, 1), from a 32-bit seed. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function int(r: Rng, n: number): number {
  return Math.floor(r() * n);
}
