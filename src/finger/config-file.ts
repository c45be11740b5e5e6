// The --config file: TOML (.toml) or YAML, one flat table whose keys are the
// long flag names. Checked against the settings table, and every problem is
// shown as file:line:col at the key or value at fault. Loaded only when a
// config file is given: a daemon started by flags never loads a parser.
import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { isMap, isScalar, parseDocument, type Node as YamlNode } from 'yaml';
import { MoatError, errnoReason } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import { SourceSyntaxError } from '../core/syntax-error.js';
import { SETTING_ENTRIES, specByFlag, valueProblem } from './settings.js';

export type ConfigFile = Readonly<Record<string, unknown>>;

interface Where {
  offset: number;
  length: number;
}

/** Read a TOML (.toml) or YAML (anything else) config file. */
export function loadConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MoatError('MOAT_FINGER_CONFIG_READ', `cannot read ${file}: ${errnoReason(e)}`, { cause: e });
  }
  return file.endsWith('.toml') ? parseTomlConfig(text, file) : parseYamlConfig(text, file);
}

export function parseTomlConfig(text: string, file: string): ConfigFile {
  let value: unknown;
  try {
    value = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      throw SourceSyntaxError.at(e.message.split('\n')[0] ?? 'TOML error', file, text, offsetOf(text, e.line, e.column), 1, 'MOAT_FINGER_CONFIG_TOML');
    }
    throw e;
  }
  // TOML keys sit at the start of a line (no tables are used here): point at the key.
  return check(value, file, text, (key) => {
    const m = new RegExp(`^[ \\t]*"?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?[ \\t]*=`, 'm').exec(text);
    return m === null ? { offset: 0, length: 1 } : { offset: m.index + (m[0].length - m[0].trimStart().length), length: Math.max(1, key.length) };
  });
}

export function parseYamlConfig(text: string, file: string): ConfigFile {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) throw SourceSyntaxError.at(first.message.split('\n')[0] ?? 'YAML error', file, text, first.pos[0], 1, 'MOAT_SPEC_YAML');
  const range = (n: YamlNode | null | undefined): Where | undefined => (n?.range === undefined || n.range === null ? undefined : { offset: n.range[0], length: Math.max(1, n.range[1] - n.range[0]) });
  return check(doc.toJS({ maxAliasCount: 100 }) ?? {}, file, text, (key, at) => {
    const map = doc.contents;
    if (!isMap(map)) return { offset: 0, length: 1 };
    const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
    const keyNode = isScalar(pair?.key) ? pair.key : undefined;
    const valueNode = pair?.value as YamlNode | null | undefined;
    return (at === 'value' ? range(valueNode) : undefined) ?? range(keyNode) ?? { offset: 0, length: 1 };
  });
}

/** Check a parsed file against the settings table; `locate` finds a key (or its value) in the text. */
function check(value: unknown, file: string, text: string, locate: (key: string, at: 'key' | 'value') => Where): ConfigFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw SourceSyntaxError.at('(top level): expected a table of settings', file, text, 0, 1, 'MOAT_FINGER_CONFIG_INVALID');
  }
  const record = value as Record<string, unknown>;
  for (const [key, v] of Object.entries(record)) {
    const spec = specByFlag(key);
    if (spec === undefined) {
      const w = locate(key, 'key');
      const near = closest(key, SETTING_ENTRIES.map(([, s]) => s.flag));
      const hint = near === undefined ? '' : `; did you mean '${near}'?`;
      throw SourceSyntaxError.at(`${key}: unknown field${hint}`, file, text, w.offset, w.length, 'MOAT_FINGER_CONFIG_INVALID');
    }
    const why = valueProblem(spec[1], v);
    if (why !== undefined) {
      const w = locate(key, 'value');
      throw SourceSyntaxError.at(`${key}: ${why}`, file, text, w.offset, w.length, 'MOAT_FINGER_CONFIG_INVALID');
    }
  }
  return record;
}

function offsetOf(text: string, line: number, column: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl === -1) return text.length;
    off = nl + 1;
  }
  return off + Math.max(0, column - 1);
}
