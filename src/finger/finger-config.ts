import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { MoatError, SourceSyntaxError, errnoReason } from '../core/index.js';
import { parseSpec } from '../core/spec-loader.js';

/** Everything `moat finger` can be told, by flags or by a config file. */
export interface FingerSettings {
  listen: string[];
  homes: string;
  passwd: string | undefined;
  showName: boolean;
  listUsers: boolean;
  forwardAllow: string[];
  /** Seconds. */
  forwardTimeout: number;
  aliases: string | undefined;
  runAsUser: string | undefined;
  allowRoot: boolean;
  pidfile: string | undefined;
  /** Seconds to receive the whole request line. */
  readTimeout: number;
  /** Seconds to send the whole answer. */
  writeTimeout: number;
  /** Bytes in a request line, terminator included. */
  maxLine: number;
  maxConnections: number;
  maxPerIp: number;
  /** New connections per second per address, and the burst. */
  rate: number;
  burst: number;
  maxFileSize: number;
  /** Ms a checked answer is reused (0: check on every query). */
  recheckMs: number;
  utf8: boolean;
  logSyslog: string | undefined;
  logNoLocal: boolean;
  logFormat: 'text' | 'json';
}

/** RFC 1288 §2.1: port 79; both families by default. */
export const DEFAULTS: FingerSettings = {
  listen: ['0.0.0.0:79', '[::]:79'],
  homes: '/home',
  passwd: undefined,
  showName: false,
  listUsers: false,
  forwardAllow: [],
  forwardTimeout: 5,
  aliases: undefined,
  runAsUser: undefined,
  allowRoot: false,
  pidfile: undefined,
  readTimeout: 10,
  writeTimeout: 30,
  maxLine: 512,
  maxConnections: 512,
  maxPerIp: 16,
  rate: 10,
  burst: 20,
  maxFileSize: 65536,
  recheckMs: 1000,
  utf8: false,
  logSyslog: undefined,
  logNoLocal: false,
  logFormat: 'text',
};

const positive = (max: number) => z.number().int().min(1).max(max);

/** The config file: the long flag names as keys, nothing else. */
export const configSchema = z.strictObject({
  listen: z.array(z.string().min(1)).min(1).optional(),
  homes: z.string().min(1).optional(),
  passwd: z.string().min(1).optional(),
  'show-name': z.boolean().optional(),
  'list-users': z.boolean().optional(),
  'forward-allow': z.array(z.string().min(1)).optional(),
  'forward-timeout': positive(300).optional(),
  aliases: z.string().min(1).optional(),
  'run-as-user': z.string().min(1).optional(),
  'allow-root': z.boolean().optional(),
  pidfile: z.string().min(1).optional(),
  'read-timeout': positive(3600).optional(),
  'write-timeout': positive(3600).optional(),
  'max-line': z.number().int().min(16).max(65536).optional(),
  'max-connections': positive(1_000_000).optional(),
  'max-per-ip': positive(1_000_000).optional(),
  rate: positive(1_000_000).optional(),
  burst: positive(1_000_000).optional(),
  'max-file-size': positive(16 * 1024 * 1024).optional(),
  'recheck-ms': z.number().int().min(0).max(60000).optional(),
  utf8: z.boolean().optional(),
  'log-syslog': z.string().min(1).optional(),
  'log-no-local': z.boolean().optional(),
  'log-format': z.enum(['text', 'json']).optional(),
});
export type ConfigFile = z.infer<typeof configSchema>;

/** Read a TOML (.toml) or YAML (anything else) config file. */
export function loadConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = errnoReason(e);
    throw new MoatError('MOAT_FINGER_CONFIG_READ', `cannot read ${file}: ${why}`, { cause: e });
  }
  return file.endsWith('.toml') ? parseTomlConfig(text, file) : parseSpec(configSchema, text, file);
}

export function parseTomlConfig(text: string, file: string): ConfigFile {
  let value: unknown;
  try {
    value = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const offset = offsetOf(text, e.line, e.column);
      throw SourceSyntaxError.at(e.message.split('\n')[0] ?? 'TOML error', file, text, offset, 1, 'MOAT_FINGER_CONFIG_TOML');
    }
    throw e;
  }
  const r = configSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path[0];
  const name = typeof key === 'string' ? key : '';
  // TOML keys sit at the start of a line (no tables are used here): point at the key.
  const m = name === '' ? null : new RegExp(`^[ \\t]*"?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?[ \\t]*=`, 'm').exec(text);
  const at = m === null ? 0 : m.index + (m[0].length - m[0].trimStart().length);
  const what = issue?.code === 'unrecognized_keys' ? 'unknown field' : (issue?.message ?? 'invalid');
  throw SourceSyntaxError.at(`${name === '' ? '(top level)' : name}: ${what}`, file, text, at, Math.max(1, name.length), 'MOAT_FINGER_CONFIG_INVALID');
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

/** Config file values over the defaults; the caller lays flags over the result. */
export function applyConfig(base: FingerSettings, c: ConfigFile): FingerSettings {
  return {
    listen: c.listen ?? base.listen,
    homes: c.homes ?? base.homes,
    passwd: c.passwd ?? base.passwd,
    showName: c['show-name'] ?? base.showName,
    listUsers: c['list-users'] ?? base.listUsers,
    forwardAllow: c['forward-allow'] ?? base.forwardAllow,
    forwardTimeout: c['forward-timeout'] ?? base.forwardTimeout,
    aliases: c.aliases ?? base.aliases,
    runAsUser: c['run-as-user'] ?? base.runAsUser,
    allowRoot: c['allow-root'] ?? base.allowRoot,
    pidfile: c.pidfile ?? base.pidfile,
    readTimeout: c['read-timeout'] ?? base.readTimeout,
    writeTimeout: c['write-timeout'] ?? base.writeTimeout,
    maxLine: c['max-line'] ?? base.maxLine,
    maxConnections: c['max-connections'] ?? base.maxConnections,
    maxPerIp: c['max-per-ip'] ?? base.maxPerIp,
    rate: c.rate ?? base.rate,
    burst: c.burst ?? base.burst,
    maxFileSize: c['max-file-size'] ?? base.maxFileSize,
    recheckMs: c['recheck-ms'] ?? base.recheckMs,
    utf8: c.utf8 ?? base.utf8,
    logSyslog: c['log-syslog'] ?? base.logSyslog,
    logNoLocal: c['log-no-local'] ?? base.logNoLocal,
    logFormat: c['log-format'] ?? base.logFormat,
  };
}
