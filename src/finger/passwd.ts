import { readFileSync } from 'node:fs';
import { MoatError, SourceSyntaxError, errnoReason } from '../core/index.js';

/** One passwd(5) entry, as far as finger needs it. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  /** The full name: the first comma-separated GECOS field, `&` expanded. */
  fullName: string;
}

/**
 * Parse passwd(5) text: `name:password:uid:gid:gecos:dir:shell`. Lines that
 * are blank or start with `#` (BSD master.passwd comments) are skipped; a
 * malformed line is an error with its position.
 */
export function parsePasswd(text: string, file: string): Map<string, PasswdEntry> {
  const users = new Map<string, PasswdEntry>();
  let offset = 0;
  for (const raw of text.split('\n')) {
    const at = offset;
    offset += raw.length + 1;
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 7) throw SourceSyntaxError.at('expected 7 colon-separated fields', file, text, at, line.length, 'MOAT_FINGER_PASSWD_SYNTAX');
    const [name = '', , uid = '', gid = '', gecos = ''] = f;
    if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) {
      throw SourceSyntaxError.at('uid and gid must be whole numbers', file, text, at + name.length + (f[1] ?? '').length + 2, uid.length + gid.length + 1, 'MOAT_FINGER_PASSWD_SYNTAX');
    }
    users.set(name.toLowerCase(), { name, uid: Number(uid), gid: Number(gid), fullName: fullName(gecos, name) });
  }
  return users;
}

// BSD finger: the first GECOS field is the name, and '&' stands for the
// login with its first letter capitalised.
function fullName(gecos: string, login: string): string {
  const first = gecos.split(',')[0] ?? '';
  const cap = login.charAt(0).toUpperCase() + login.slice(1);
  return first.replace(/&/g, cap);
}

export function loadPasswd(file: string): Map<string, PasswdEntry> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = errnoReason(e);
    throw new MoatError('MOAT_FINGER_PASSWD_READ', `cannot read ${file}: ${why}`, { cause: e });
  }
  return parsePasswd(text, file);
}
