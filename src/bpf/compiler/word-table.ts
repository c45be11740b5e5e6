// The lexer's table of keywords and named numbers (lexer.ts), looked up by
// the word's characters where they stand in the expression: hashed and
// compared in place, so a keyword or named number (most words of an
// expression) costs no string of its own, nor a Map's hashing of one. That
// was a third of the time to tokenize. An open-addressing table with linear
// probing; exact, case-sensitive matches only, as scanner.l's rules are.

/** What a known spelling scans as: its token kind, text and value. */
export interface KnownWord {
  readonly spelling: string;
  readonly kind: 'KW' | 'NUM';
  /** The keyword's canonical name, or the named number's own spelling. */
  readonly text: string;
  readonly value: number;
}

/** A hash of src[from, to), the same for a spelling and for its place in any source. */
function hashOf(src: string, from: number, to: number): number {
  let h = to - from;
  for (let i = from; i < to; i++) h = (Math.imul(h, 31) + src.charCodeAt(i)) | 0;
  return h;
}

export class WordTable {
  private readonly slots: (KnownWord | null)[];
  private readonly mask: number;

  /** `words`: no spelling twice. */
  constructor(words: readonly KnownWord[]) {
    // At most a quarter full: probes end on an empty slot after one or two.
    let size = 16;
    while (size < 4 * words.length) size *= 2;
    this.mask = size - 1;
    this.slots = new Array<KnownWord | null>(size).fill(null);
    for (const w of words) {
      let slot = hashOf(w.spelling, 0, w.spelling.length) & this.mask;
      while (this.slots[slot] !== null) slot = (slot + 1) & this.mask;
      this.slots[slot] = w;
    }
  }

  /** The known word spelled src[from, to), or null. */
  find(src: string, from: number, to: number): KnownWord | null {
    const len = to - from;
    for (let slot = hashOf(src, from, to) & this.mask; ; slot = (slot + 1) & this.mask) {
      const w = this.slots[slot] ?? null;
      if (w === null) return null;
      if (w.spelling.length === len && sameAt(w.spelling, src, from)) return w;
    }
  }
}

/** Is `word` what `src` holds from `at` on? */
function sameAt(word: string, src: string, at: number): boolean {
  for (let i = 0; i < word.length; i++) if (word.charCodeAt(i) !== src.charCodeAt(at + i)) return false;
  return true;
}
