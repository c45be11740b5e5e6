// The RFC 1288 §2.3 query grammar:
//   {Q1} ::= [{W}|{W}{S}{U}]{C}
//   {Q2} ::= [{W}{S}][{U}]{H}{C}
//   {U}  ::= username      {H} ::= "@"hostname | "@"hostname{H}
//   {W}  ::= "/W"          {S} ::= <SP> | <SP>{S}     {C} ::= <CRLF>
// The line has already been cut at its terminator (CRLF or a bare LF).

/** What a client asked for. */
export type FingerQuery =
  /** {C}: the list of users (RFC 1288 §2.5.1). */
  | { kind: 'list'; long: boolean }
  /** {U}{C}: one or more local users (§2.5.2). */
  | { kind: 'user'; long: boolean; names: string[] }
  /** {Q2}: forward to the last host named (§2.5.3: user@hostA@hostB asks hostB for user@hostA). */
  | { kind: 'forward'; long: boolean; user: string; hosts: string[] }
  /** Something the grammar does not allow, or a name we refuse. */
  | { kind: 'bad'; reason: string };

/** At most this many names in one query; FreeBSD's fingerd fingers each in turn. */
export const MAX_NAMES = 8;
/** Login names longer than this exist nowhere we serve. */
export const MAX_NAME_LENGTH = 64;

/**
 * Parse one request line (without its line terminator). Names are folded to
 * lower case here, so every later lookup is case-insensitive.
 */
export function parseQuery(line: string): FingerQuery {
  // Strip a CR left by a CRLF terminator, then the RFC's optional spaces.
  let rest = line.replace(/\r$/, '');
  let long = false;
  // §2.5.4: the /W token; clients send "/W " with a trailing space (Debian's
  // finger does), and FreeBSD's fingerd accepts "/w" as well.
  const w = /^[ \t]*\/[Ww](?=$|[ \t])/.exec(rest);
  if (w) {
    long = true;
    rest = rest.slice(w[0].length);
  }
  rest = rest.replace(/^[ \t]+|[ \t]+$/g, '');
  if (rest === '') return { kind: 'list', long };
  const tokens = rest.split(/[ \t]+/);
  if (tokens.some((t) => t.includes('@'))) {
    // {Q2} takes exactly one target, optionally with a user.
    if (tokens.length !== 1) return { kind: 'bad', reason: 'forwarding takes one target' };
    const parts = (tokens[0] ?? '').split('@');
    const user = (parts[0] ?? '').toLowerCase();
    const hosts = parts.slice(1).map((h) => h.toLowerCase());
    if (hosts.some((h) => !validHostname(h))) return { kind: 'bad', reason: 'bad host name' };
    if (user !== '') {
      const why = nameProblem(user);
      if (why !== undefined) return { kind: 'bad', reason: why };
    }
    return { kind: 'forward', long, user, hosts };
  }
  if (tokens.length > MAX_NAMES) return { kind: 'bad', reason: 'too many names' };
  const names: string[] = [];
  for (const t of tokens) {
    const why = nameProblem(t);
    if (why !== undefined) return { kind: 'bad', reason: why };
    names.push(t.toLowerCase());
  }
  return { kind: 'user', long, names };
}

/**
 * Why a user name is refused, or undefined when it is acceptable. A name is a
 * single path component under the homes directory, so anything that could
 * leave it (NUL, `/`, `\`, `..`) or that could confuse a terminal or a log
 * (control bytes, non-ASCII) is refused outright.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name.length > MAX_NAME_LENGTH) return 'name too long';
  if (name.includes('\0')) return 'NUL in name';
  if (name.includes('/') || name.includes('\\')) return 'slash in name';
  if (name.includes('..')) return "'..' in name";
  if (name.startsWith('.') || name.startsWith('-')) return 'name starts with . or -';
  // Printable ASCII only: logins on BSD and Linux are portable-filename characters.
  if (!/^[\x21-\x7e]+$/.test(name)) return 'unprintable byte in name';
  return undefined;
}

/** A DNS name or an IP literal, as a forwarding target may be. */
export function validHostname(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  if (/^\[?[0-9a-f:.]+\]?$/i.test(host) && host.includes(':')) return true;
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(host);
}
