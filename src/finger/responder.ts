import type { FileRefusal } from './file-cache.js';
import { forwardQuery, type ForwardOptions } from './forwarder.js';
import { parseQuery, type FingerQuery } from './query-parser.js';
import type { Answer, UserDirectory } from './user-directory.js';

const CRLF = '\r\n';
// RFC 1288 §3.2.1 and §3.2.2 name these refusals.
export const FORWARD_DENIED = `Finger forwarding service denied.${CRLF}`;
export const LIST_DENIED = `Finger online user list denied.${CRLF}`;
export const BAD_QUERY = `finger: invalid query.${CRLF}`;
export const TOO_LONG = `finger: request too long.${CRLF}`;
/** TOO_LONG encoded once. */
export const TOO_LONG_BYTES = Buffer.from(TOO_LONG, 'latin1');

const MAX_PARSED = 1024;

export interface ResponderOptions {
  listUsers: boolean;
  /** Most bytes in one answer to several names; the names past it are left out. */
  maxAnswer: number;
  /** Hosts that {Q2} may be forwarded to, lower case; empty refuses all forwarding. */
  forwardAllow: readonly string[];
  forward: ForwardOptions;
}

export interface Response {
  text: string;
  /** The text encoded, when it is kept for reuse: sockets then send it without encoding it again. */
  bytes?: Buffer;
  outcome: string;
  refused: { file: string; why: FileRefusal }[];
}

/** Turns one request line into its answer. Only forwarding is asynchronous. */
export class Responder {
  /** Responses to one-name queries, kept as long as the directory reuses the answer they came from. */
  private readonly encoded = new WeakMap<Answer, Response>();
  /** Recent request lines, parsed: most clients ask for the same few names. Bounded; the oldest go first. */
  private readonly parsed = new Map<string, FingerQuery>();

  constructor(
    private readonly directory: UserDirectory,
    private readonly options: ResponderOptions,
  ) {}

  /** Answer synchronously when possible (the common case), or give a promise. */
  answer(line: string): Response | Promise<Response> {
    let q = this.parsed.get(line);
    if (q === undefined) {
      q = parseQuery(line);
      this.parsed.set(line, q);
      if (this.parsed.size > MAX_PARSED) {
        const oldest = this.parsed.keys().next();
        if (oldest.done !== true) this.parsed.delete(oldest.value);
      }
    }
    switch (q.kind) {
      case 'bad':
        return { text: BAD_QUERY, outcome: `bad-query (${q.reason})`, refused: [] };
      case 'list':
        if (!this.options.listUsers) return { text: LIST_DENIED, outcome: 'list-denied', refused: [] };
        return { text: this.directory.list(), outcome: 'list', refused: [] };
      case 'user': {
        if (q.names.length === 1) {
          // The common query. The directory hands out the same Answer while it
          // reuses it (--recheck-ms), so its encoded form is made once.
          const a = this.directory.finger(q.names[0] ?? '', q.long);
          let r = this.encoded.get(a);
          if (r === undefined) {
            r = { text: a.text, bytes: Buffer.from(a.text, 'utf8'), outcome: a.outcome, refused: a.refused };
            this.encoded.set(a, r);
          }
          return r;
        }
        // Up to eight names, each with files up to the size limit: bound the
        // whole answer too, so open connections cannot pin much memory each.
        const parts: Answer[] = [];
        let size = 0;
        for (const n of q.names) {
          if (size >= this.options.maxAnswer) break;
          const a = this.directory.finger(n, q.long);
          size += a.text.length;
          parts.push(a);
        }
        // FreeBSD's fingerd separates the answers for several names with a blank line.
        return {
          text: parts.map((p) => p.text).join(CRLF),
          outcome: parts.map((p) => p.outcome).join(','),
          refused: parts.flatMap((p) => p.refused),
        };
      }
      case 'forward': {
        const [host, ...more] = q.hosts;
        // One hop only: "user@a@b" sent to us would make us a relay for a relay.
        if (host === undefined || more.length > 0 || !this.options.forwardAllow.includes(host)) {
          return { text: FORWARD_DENIED, outcome: 'forward-denied', refused: [] };
        }
        return this.forward(host, q.user, q.long);
      }
    }
  }

  private async forward(host: string, user: string, long: boolean): Promise<Response> {
    const r = await forwardQuery(host, user, long, this.options.forward);
    if (!r.ok) return { text: `finger: ${host}: ${r.why === 'timeout' ? 'timed out' : 'unreachable'}.${CRLF}`, outcome: `forward-failed (${r.why})`, refused: [] };
    return { text: `[${host}]${CRLF}${r.text}`, outcome: r.truncated ? 'forwarded-truncated' : 'forwarded', refused: [] };
  }
}
