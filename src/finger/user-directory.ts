import { lstatSync, opendirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { AliasTarget } from './aliases.js';
import type { FileCache, FileRefusal } from './file-cache.js';
import type { PasswdEntry } from './passwd.js';
import { neutralise } from './sanitize.js';

const CRLF = '\r\n';

/** The files served for a user, in the order and with the captions BSD finger uses. */
const FILES = [
  { file: '.project', caption: 'Project', longOnly: false },
  { file: '.plan', caption: 'Plan', longOnly: false },
  { file: '.pubkey', caption: 'Public key', longOnly: true },
] as const;

/** A user opts in to the {C} listing with this file in the home directory. */
export const LIST_OPT_IN = '.fingerlist';
/** The only thing said about a user who is absent, opted out, or unsafe: one answer for all, so none can be told apart. */
export const NO_SUCH_USER = (name: string): string => `finger: ${name}: no such user.${CRLF}`;

export interface DirectoryOptions {
  /** The directory that holds one directory per user (HOMES/name). */
  homes: string;
  /** Full names, from --passwd. */
  passwd: ReadonlyMap<string, PasswdEntry>;
  showName: boolean;
  aliases: ReadonlyMap<string, AliasTarget>;
  cache: FileCache;
  /** Most users a {C} listing shows. */
  maxListed?: number;
  /**
   * How long, in ms, a checked answer is reused before the home and files are
   * checked again (0: every query). Reuse only ever repeats content that
   * passed every check when it was read, so a file swapped meanwhile is never
   * served; what changes is seen at most this late.
   */
  recheckMs?: number;
  /** Homes owned by a uid below this are nobody's (Go fingerd's -passwd.min-uid); 0 or absent: all. */
  minUid?: number;
}

/** Most answers kept for reuse; the oldest go first. */
const MAX_RECENT = 4096;

export interface Answer {
  text: string;
  /** For the log: found, unknown, nofinger, not-a-directory, ... */
  outcome: string;
  /** Files that were present but refused, with why; logged as warnings. */
  refused: { file: string; why: FileRefusal }[];
}

/** Answers {U} and {C} queries from the homes directory. */
export class UserDirectory {
  private listCache: { at: number; text: string } | undefined;
  private readonly homes: string;
  private readonly recent = new Map<string, { at: number; answer: Answer }>();

  constructor(private options: DirectoryOptions) {
    this.homes = options.homes.length > 1 ? options.homes.replace(/\/+$/, '') : options.homes;
  }

  /** Swap in reloaded aliases or passwd (SIGHUP, or finger.conf changed). */
  update(changes: Partial<Pick<DirectoryOptions, 'aliases' | 'passwd'>>): void {
    this.options = { ...this.options, ...changes };
    this.forget();
  }

  /** Drop every reused answer (SIGHUP). */
  forget(): void {
    this.listCache = undefined;
    this.recent.clear();
  }

  /** One user's answer (RFC 1288 §2.5.2). `name` has been validated and folded already. */
  finger(name: string, long: boolean, now = Date.now()): Answer {
    const recheck = this.options.recheckMs ?? 0;
    if (recheck <= 0) return this.check(name, long);
    const key = long ? `/W ${name}` : name;
    const hit = this.recent.get(key);
    if (hit !== undefined && now - hit.at < recheck) return hit.answer;
    const answer = this.check(name, long);
    this.recent.delete(key);
    this.recent.set(key, { at: now, answer });
    if (this.recent.size > MAX_RECENT) {
      const oldest = this.recent.keys().next();
      if (oldest.done !== true) this.recent.delete(oldest.value);
    }
    return answer;
  }

  /** Check the home and its files now, and build the answer. */
  private check(name: string, long: boolean): Answer {
    const alias = this.options.aliases.get(name);
    if (alias?.kind === 'file') {
      // The administrator chose this file, so there is no owner to check; it
      // is still opened without following a symlink and bounded in size.
      const r = this.options.cache.read(alias.path, undefined);
      if (!r.ok) return { text: NO_SUCH_USER(name), outcome: `alias-file-${r.why}`, refused: [{ file: alias.path, why: r.why }] };
      return { text: r.text, outcome: 'alias-file', refused: [] };
    }
    const login = alias?.kind === 'user' ? alias.name : name;
    // Plain concatenation: the name is one validated component, and this is the hot path.
    const home = `${this.homes}/${login}`;
    const st = lstatQuiet(home);
    // A home that is a symlink could point anywhere (/etc, another user's
    // home): only a real directory counts.
    if (st === undefined) return { text: NO_SUCH_USER(name), outcome: 'unknown', refused: [] };
    if (!st.isDirectory()) return { text: NO_SUCH_USER(name), outcome: st.isSymbolicLink() ? 'home-symlink' : 'home-not-dir', refused: [] };
    // System accounts (uid below --min-uid) get the same answer as the absent.
    if (st.uid < (this.options.minUid ?? 0)) return { text: NO_SUCH_USER(name), outcome: 'below-min-uid', refused: [] };
    if (lstatQuiet(`${home}/.nofinger`) !== undefined) return { text: NO_SUCH_USER(name), outcome: 'nofinger', refused: [] };
    const owner = st.uid;
    const refused: Answer['refused'] = [];
    let text = this.loginLine(login);
    let sawPlan = false;
    for (const f of FILES) {
      if (f.longOnly && !long) continue;
      const r = this.options.cache.read(`${home}/${f.file}`, owner);
      if (!r.ok) {
        if (r.why !== 'missing') refused.push({ file: f.file, why: r.why });
        continue;
      }
      if (f.file === '.plan') sawPlan = true;
      text += captioned(f.caption, r.text);
    }
    if (!sawPlan) text += `No Plan.${CRLF}`;
    return { text, outcome: alias === undefined ? 'found' : 'alias', refused };
  }

  /** The {C} listing (RFC 1288 §2.5.1): only users who opted in. Cached briefly, as it reads a directory. */
  list(now = Date.now()): string {
    if (this.listCache !== undefined && now - this.listCache.at < 5000) return this.listCache.text;
    const max = this.options.maxListed ?? 200;
    const names: string[] = [];
    let scanned = 0;
    try {
      const dir = opendirSync(this.options.homes);
      try {
        // Bound the scan as well as the answer: a huge homes directory must not stall the server.
        for (let d = dir.readSync(); d !== null && scanned < 10000 && names.length < max; d = dir.readSync()) {
          scanned++;
          if (!d.isDirectory()) continue;
          const name = d.name.toLowerCase();
          if (name !== d.name || name.startsWith('.')) continue;
          const home = join(this.options.homes, name);
          if (lstatQuiet(join(home, '.nofinger')) !== undefined) continue;
          const opt = lstatQuiet(join(home, LIST_OPT_IN));
          const st = lstatQuiet(home);
          if (st === undefined || opt?.isFile() !== true || opt.uid !== st.uid || st.uid < (this.options.minUid ?? 0)) continue;
          names.push(name);
        }
      } finally {
        dir.closeSync();
      }
    } catch {
      // An unreadable homes directory lists nobody.
    }
    names.sort();
    const rows = names.map((n) => this.loginLine(n));
    const text = rows.length === 0 ? `No one is listed.${CRLF}` : rows.join('');
    this.listCache = { at: now, text };
    return text;
  }

  private loginLine(login: string): string {
    const entry = this.options.showName ? this.options.passwd.get(login) : undefined;
    const head = `Login: ${login}`;
    if (entry === undefined || entry.fullName === '') return `${head}${CRLF}`;
    return `${head.padEnd(40)}Name: ${neutralise(entry.fullName)}${CRLF}`;
  }
}

// BSD finger puts a one-line file beside its caption when the whole line fits
// in 79 columns; anything longer starts on the next line.
function captioned(caption: string, text: string): string {
  const firstEnd = text.indexOf(CRLF);
  const oneLine = firstEnd === text.length - 2;
  if (oneLine && caption.length + 2 + firstEnd <= 79) return `${caption}: ${text}`;
  return `${caption}:${CRLF}${text}`;
}

function lstatQuiet(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
