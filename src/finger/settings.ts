// Every setting of `moat finger`, once: its flag (which is also its config
// file key), default, range and help line. The flag parser, the config file
// validator, the --help text and the Go fingerd flag names are all made from
// this table, so a new setting is one entry here (plus its use and its line
// in moat-finger(8), which a test checks).
import { isAbsolute, resolve } from 'node:path';
import type { Severity } from '../core/syslog-format.js';

/** Everything `moat finger` can be told, by flags or by a config file. */
export interface FingerSettings {
  listen: string[];
  homes: string;
  aliases: string | undefined;
  passwd: string | undefined;
  showName: boolean;
  /** Homes owned by a uid below this are nobody's (0: all are served). */
  minUid: number;
  listUsers: boolean;
  forwardAllow: string[];
  /** Seconds for a whole forwarded query. */
  forwardTimeout: number;
  runAsUser: string | undefined;
  allowRoot: boolean;
  pidfile: string | undefined;
  /** After binding, chroot(2) here (confine.ts); homes, aliases and passwd are then paths inside. */
  chroot: string | undefined;
  /** FreeBSD: after binding, jail_attach(2) to this jail, by name or JID. */
  jail: string | undefined;
  /** Seconds to receive the whole request line. */
  readTimeout: number;
  /** Seconds to send the whole answer. */
  writeTimeout: number;
  /** Bytes in a request line, terminator included. */
  maxLine: number;
  maxFileSize: number;
  maxConnections: number;
  maxPerIp: number;
  /** New connections per second per address, and the burst. */
  rate: number;
  burst: number;
  /** Ms a checked answer is reused (0: check on every query). */
  recheckMs: number;
  utf8: boolean;
  logSyslog: string | undefined;
  /** RFC 5424 APP-NAME. */
  logTag: string;
  logNoLocal: boolean;
  logFormat: 'text' | 'json';
  logLevel: Severity;
}

/** A Go fingerd flag that sets this setting; `value` turns its argument into ours. */
export interface GoFlag {
  name: string;
  value?: (v: string) => string;
}

interface Common {
  /** The long flag, without dashes; also the config file key. */
  flag: string;
  /** What the argument is called in --help. */
  arg?: string;
  /** The --help text; settings with the same `line` share one line, with the first one's text. */
  help: string;
  line?: string;
  go?: GoFlag;
}

type Kind<T> = [T] extends [boolean]
  ? { type: 'boolean' }
  : [T] extends [number]
    ? { type: 'int'; min: number; max: number }
    : [T] extends [string[]]
      ? { type: 'list' }
      : [T] extends [string | undefined]
        ? { type: 'string' | 'path'; values?: readonly string[] }
        : never;

export type SettingSpec<T> = Common & { default: T } & Kind<T>;
type AnySpec = Common & { default: unknown } & ({ type: 'boolean' } | { type: 'int'; min: number; max: number } | { type: 'list' } | { type: 'string' | 'path'; values?: readonly string[] });

const SEVERITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

// Go's time.Duration syntax ("10s", "1m30s", "500ms"): our timeouts are whole
// seconds, so a duration is rounded up to the next second (at least 1).
export function goDurationSeconds(v: string): string {
  const units: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(v); m !== null; m = re.exec(v)) {
    total += Number(m[1]) * (units[m[2] ?? 's'] ?? 1);
    end = re.lastIndex;
  }
  // Go accepts a bare "0"; anything else left over is not a duration: pass it on for the range check to refuse.
  if (v === '0') return '0';
  if (end !== v.length || v.length === 0) return v;
  return String(Math.max(1, Math.ceil(total - 1e-9)));
}

// logrus level names, as Go fingerd's -log.level takes them.
const LOGRUS: Readonly<Record<string, Severity>> = { trace: 'debug', debug: 'debug', info: 'info', warn: 'warning', warning: 'warning', error: 'err', fatal: 'crit', panic: 'emerg' };

/** The settings table. Order is --help's order. */
export const SETTINGS = {
  listen: { flag: 'listen', arg: 'HOST:PORT', type: 'list', default: ['0.0.0.0:79', '[::]:79'], help: 'address to serve, repeatable', go: { name: 'listen' } },
  homes: { flag: 'homes', arg: 'DIR', type: 'path', default: '/home', help: 'one directory per user: DIR/name', go: { name: 'homes-dir' } },
  aliases: { flag: 'aliases', arg: 'FILE', type: 'path', default: undefined, help: 'finger.conf alias:target lines, reread when changed', go: { name: 'alias-file' } },
  passwd: { flag: 'passwd', arg: 'FILE', type: 'path', default: undefined, help: 'full names from a passwd(5) file', line: 'names' },
  showName: { flag: 'show-name', type: 'boolean', default: false, help: 'show them', line: 'names' },
  minUid: { flag: 'min-uid', arg: 'N', type: 'int', min: 0, max: 0xfffffffe, default: 0, help: 'serve only homes owned by uid N or above', go: { name: 'passwd.min-uid' } },
  listUsers: { flag: 'list-users', type: 'boolean', default: false, help: 'answer {C} with users who opted in (~/.fingerlist)' },
  forwardAllow: { flag: 'forward-allow', arg: 'HOST', type: 'list', default: [], help: 'forward to HOST, one hop', line: 'forward' },
  forwardTimeout: { flag: 'forward-timeout', arg: 'S', type: 'int', min: 1, max: 300, default: 5, help: 'forwarding time limit', line: 'forward' },
  runAsUser: { flag: 'run-as-user', arg: 'U', type: 'string', default: undefined, help: 'after binding become U (name or uid:gid)', line: 'user', go: { name: 'run-as-user' } },
  allowRoot: { flag: 'allow-root', type: 'boolean', default: false, help: 'or serve as root', line: 'user' },
  pidfile: { flag: 'pidfile', arg: 'FILE', type: 'path', default: undefined, help: 'written after binding, before the privilege drop', go: { name: 'pidfile' } },
  chroot: { flag: 'chroot', arg: 'DIR', type: 'path', default: undefined, help: 'after binding, confine to DIR, or a FreeBSD jail', line: 'confine' },
  jail: { flag: 'jail', arg: 'J', type: 'string', default: undefined, help: 'FreeBSD jail by name or JID', line: 'confine' },
  readTimeout: { flag: 'read-timeout', arg: 'S', type: 'int', min: 1, max: 3600, default: 10, help: 'seconds to read, to answer', line: 'timeouts', go: { name: 'request.timeout.read', value: goDurationSeconds } },
  writeTimeout: { flag: 'write-timeout', arg: 'S', type: 'int', min: 1, max: 3600, default: 30, help: 'seconds to send the answer', line: 'timeouts', go: { name: 'request.timeout.write', value: goDurationSeconds } },
  maxLine: { flag: 'max-line', arg: 'N', type: 'int', min: 16, max: 65536, default: 512, help: 'bytes per query, per file', line: 'sizes' },
  maxFileSize: { flag: 'max-file-size', arg: 'N', type: 'int', min: 1, max: 16 * 1024 * 1024, default: 65536, help: 'largest file served', line: 'sizes', go: { name: 'file.size-limit' } },
  maxConnections: { flag: 'max-connections', arg: 'N', type: 'int', min: 1, max: 1_000_000, default: 512, help: 'open at once, per address', line: 'caps' },
  maxPerIp: { flag: 'max-per-ip', arg: 'N', type: 'int', min: 1, max: 1_000_000, default: 16, help: 'open at once from one address (IPv6: /64)', line: 'caps' },
  rate: { flag: 'rate', arg: 'N', type: 'int', min: 1, max: 1_000_000, default: 10, help: 'new connections/s per address, burst', line: 'rate' },
  burst: { flag: 'burst', arg: 'N', type: 'int', min: 1, max: 1_000_000, default: 20, help: 'burst of new connections per address', line: 'rate' },
  recheckMs: { flag: 'recheck-ms', arg: 'N', type: 'int', min: 0, max: 60000, default: 1000, help: 'reuse checked answers N ms; pass UTF-8 on', line: 'answers' },
  utf8: { flag: 'utf8', type: 'boolean', default: false, help: "pass UTF-8 through (default: non-ASCII becomes '?')", line: 'answers' },
  logSyslog: { flag: 'log-syslog', arg: 'URL', type: 'string', default: undefined, help: 'also to udp://host:514, tcp://host:port or unix:///path' },
  logNoLocal: { flag: 'log-no-local', type: 'boolean', default: false, help: 'no stderr; APP-NAME', line: 'local', go: { name: 'log.no-local' } },
  logTag: { flag: 'log-tag', arg: 'TAG', type: 'string', default: 'moat-finger', help: 'syslog APP-NAME', line: 'local', go: { name: 'log.syslog.tag' } },
  logFormat: { flag: 'log-format', arg: 'F', type: 'string', values: ['text', 'json'], default: 'text', help: 'text|json; least severity logged', line: 'log' },
  logLevel: {
    flag: 'log-level',
    arg: 'L',
    type: 'string',
    values: SEVERITY_NAMES,
    default: 'info',
    help: 'least severity logged',
    line: 'log',
    go: { name: 'log.level', value: (v) => LOGRUS[v.toLowerCase()] ?? v },
  },
} as const satisfies { [K in keyof FingerSettings]: SettingSpec<FingerSettings[K]> };

export type SettingKey = keyof FingerSettings;

/** The table as plain entries, for the code that walks it. */
export const SETTING_ENTRIES: readonly (readonly [SettingKey, AnySpec])[] = Object.entries(SETTINGS) as [SettingKey, AnySpec][];

/** RFC 1288 §2.1: port 79; both families by default. */
export const DEFAULTS: FingerSettings = Object.fromEntries(
  SETTING_ENTRIES.map(([k, s]) => [k, Array.isArray(s.default) ? [...(s.default as string[])] : s.default]),
) as unknown as FingerSettings;

/** The flags that are not settings. */
export const COMMAND_OPTIONS = {
  config: { type: 'string' },
  // -n as in ifstated(8), sshd(8) -t and friends: check the configuration and exit.
  check: { type: 'boolean', short: 'n' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type ParseOption = { type: 'string'; multiple?: boolean } | { type: 'boolean'; short?: string };

/** node:util parseArgs options for every setting and command flag. */
export function parseOptions(): Record<string, ParseOption> {
  const o: Record<string, ParseOption> = {};
  for (const [, s] of SETTING_ENTRIES) o[s.flag] = s.type === 'boolean' ? { type: 'boolean' } : s.type === 'list' ? { type: 'string', multiple: true } : { type: 'string' };
  return { ...o, ...COMMAND_OPTIONS };
}

/** Does this long flag take an argument? undefined: no such flag. */
export function flagTakesValue(flag: string): boolean | undefined {
  const o = parseOptions()[flag];
  return o === undefined ? undefined : o.type === 'string';
}

/** Why a value is not acceptable for a setting, or undefined when it is. Shared by flags (as text) and config files. */
export function valueProblem(s: AnySpec, v: unknown): string | undefined {
  switch (s.type) {
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'expected true or false';
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) return 'expected a whole number';
      return v < s.min || v > s.max ? `must be in ${String(s.min)}..${String(s.max)}` : undefined;
    case 'list':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) return 'expected a list of strings';
      return s.flag === 'listen' && v.length === 0 ? 'expected at least one address' : undefined;
    case 'string':
    case 'path':
      if (typeof v !== 'string' || v === '') return 'expected a non-empty string';
      if (s.values !== undefined && !s.values.includes(v)) return `expected one of ${s.values.join(', ')}`;
      return undefined;
  }
}

/** Config file keys are the flags; the spec of one, or undefined. */
export function specByFlag(flag: string): readonly [SettingKey, AnySpec] | undefined {
  return SETTING_ENTRIES.find(([, s]) => s.flag === flag);
}

export type Layer = Partial<Record<SettingKey, unknown>>;

/** A config file's values, checked, keyed by setting; paths made absolute against `dir`. */
export function fromConfig(values: Readonly<Record<string, unknown>>, dir: string): Layer {
  const out: Layer = {};
  for (const [k, v] of Object.entries(values)) {
    const spec = specByFlag(k);
    if (spec === undefined) continue;
    out[spec[0]] = spec[1].type === 'path' && typeof v === 'string' && !isAbsolute(v) ? resolve(dir, v) : v;
  }
  return out;
}

/** Lay flags over a config file over the defaults. */
export function merge(...layers: Layer[]): FingerSettings {
  const s: Record<string, unknown> = { ...DEFAULTS };
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (v !== undefined) s[k] = v;
  return s as unknown as FingerSettings;
}

function defaultText(s: AnySpec): string | undefined {
  const d = s.default;
  if (d === undefined || typeof d === 'boolean' || (Array.isArray(d) && d.length === 0)) return undefined;
  if (Array.isArray(d)) return d.join(' ');
  return typeof d === 'number' || typeof d === 'string' ? String(d) : undefined;
}

/** The option lines of --help, from the table: one line per setting or per `line` group. */
export function helpLines(): string[] {
  const groups: AnySpec[][] = [];
  const byLine = new Map<string, AnySpec[]>();
  for (const [, s] of SETTING_ENTRIES) {
    const g = s.line === undefined ? undefined : byLine.get(s.line);
    if (g !== undefined) {
      g.push(s);
      continue;
    }
    const fresh = [s];
    groups.push(fresh);
    if (s.line !== undefined) byLine.set(s.line, fresh);
  }
  return groups.map((g) => {
    const left = g.map((s) => `--${s.flag}${s.arg === undefined ? '' : ` ${s.arg}`}`).join(' ');
    const defaults = g.map(defaultText).filter((d): d is string => d !== undefined);
    const text = `${g[0]?.help ?? ''}${defaults.length === 0 ? '' : ` (${defaults.join(', ')})`}`;
    return left.length <= 20 ? `  ${left.padEnd(20)}  ${text}` : `  ${left}  ${text}`;
  });
}
