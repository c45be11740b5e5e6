import { readFileSync } from 'node:fs';
import { MoatError, SourceSyntaxError, errnoReason } from '../core/index.js';
import { nameProblem } from './query-parser.js';

/** Where an alias leads: another user's home, or a file the administrator chose. */
export type AliasTarget = { kind: 'user'; name: string } | { kind: 'file'; path: string };

/**
 * Parse finger.conf as FreeBSD's fingerd and Pennock's fingerd read it:
 * one `alias:target` per line, `#` to the end of the line is a comment, blank
 * lines are ignored. A target that starts with `/` is a file served as the
 * alias's whole answer. Alias names are folded to lower case like queries.
 */
export function parseAliases(text: string, file: string): Map<string, AliasTarget> {
  const aliases = new Map<string, AliasTarget>();
  let offset = 0;
  for (const raw of text.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    const hash = raw.indexOf('#');
    const line = (hash === -1 ? raw : raw.slice(0, hash)).replace(/\r$/, '');
    if (line.trim() === '') continue;
    const lead = line.length - line.trimStart().length;
    const colon = line.indexOf(':');
    if (colon === -1) {
      throw SourceSyntaxError.at("expected 'alias:target'", file, text, lineStart + lead, line.trim().length, 'MOAT_FINGER_ALIAS_SYNTAX');
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const target = line.slice(colon + 1).trim();
    const nameWhy = nameProblem(name);
    if (nameWhy !== undefined) {
      throw SourceSyntaxError.at(`bad alias name: ${nameWhy}`, file, text, lineStart + lead, Math.max(1, colon - lead), 'MOAT_FINGER_ALIAS_SYNTAX');
    }
    const targetAt = lineStart + colon + 1 + (line.slice(colon + 1).length - line.slice(colon + 1).trimStart().length);
    if (target.startsWith('/')) {
      if (target.includes('\0')) throw SourceSyntaxError.at('NUL in file name', file, text, targetAt, target.length, 'MOAT_FINGER_ALIAS_SYNTAX');
      aliases.set(name, { kind: 'file', path: target });
      continue;
    }
    const targetWhy = nameProblem(target);
    if (targetWhy !== undefined) {
      throw SourceSyntaxError.at(`bad alias target: ${targetWhy}`, file, text, targetAt, Math.max(1, target.length), 'MOAT_FINGER_ALIAS_SYNTAX');
    }
    if (aliases.has(name)) {
      throw SourceSyntaxError.at(`alias '${name}' defined twice`, file, text, lineStart + lead, colon - lead, 'MOAT_FINGER_ALIAS_SYNTAX');
    }
    aliases.set(name, { kind: 'user', name: target.toLowerCase() });
  }
  return aliases;
}

/** Read and parse a finger.conf; a missing file is a clear error. */
export function loadAliases(file: string): Map<string, AliasTarget> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = errnoReason(e);
    throw new MoatError('MOAT_FINGER_ALIAS_READ', `cannot read ${file}: ${why}`, { cause: e });
  }
  return parseAliases(text, file);
}
