// Quoting for a systemd unit's command line (systemd.service(5) "COMMAND
// LINES", systemd.unit(5) "SPECIFIERS"): a word in double quotes may hold
// spaces; backslash escapes C-style; "$" starts a variable reference unless
// doubled; "%" starts a specifier unless doubled. A quoted ";" is not the
// command separator, which must stand alone unquoted.

const BARE = /^[A-Za-z0-9_@+=:,./-]+$/;

/** One ExecStart= word that systemd reads back as exactly `word`. */
export function systemdQuote(word: string): string {
  const escaped = word.replace(/[%$]/g, (c) => c + c);
  if (word.length > 0 && BARE.test(word)) return escaped;
  return `"${escaped.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A whole command line: the first word is the executable path. */
export function systemdCommandLine(words: readonly string[]): string {
  return words.map(systemdQuote).join(' ');
}

/** A path in a setting that takes a bare path (no quoting there): % still needs doubling. */
export function systemdPath(path: string): string {
  return path.replace(/%/g, '%%');
}
