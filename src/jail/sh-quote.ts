// POSIX sh quoting (XCU 2.2.2): inside single quotes every character is
// literal except the single quote itself, which cannot appear at all, so it
// is closed, escaped and reopened: ' becomes '\''. Words that are plainly
// safe are left bare so that the scripts read like hand-written ones.

const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One shell word that the shell reads back as exactly `word`. */
export function shQuote(word: string): string {
  if (word.length > 0 && BARE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Several words, each quoted, separated by spaces. */
export function shWords(words: readonly string[]): string {
  return words.map(shQuote).join(' ');
}
