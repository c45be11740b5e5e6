// Pennock's Go fingerd (v0.2.3) takes Go-style flags with one dash, and rc.d
// scripts and jail.conf lines name them (the seed's: `-run-as-user
// 65534:65534 -pidfile=/log/pids/…`). Every one of its flags is accepted, so
// such a script needs only its binary path changed. Go's flag package also
// accepts two dashes, `-name=value`, and `-bool=false`.
import { UsageError } from '../core/errors.js';
import { COMMAND_OPTIONS, SETTING_ENTRIES, flagTakesValue, type GoFlag } from './settings.js';

const COMMAND = 'moat finger';

/** Go fingerd flags with their settings, from the settings table. */
const GO_SETTINGS = new Map<string, { flag: string; bool: boolean; go: GoFlag }>(
  SETTING_ENTRIES.flatMap(([, s]) => (s.go === undefined ? [] : [[s.go.name, { flag: s.flag, bool: s.type === 'boolean', go: s.go }] as const])),
);

/** Go fingerd flags that are not one setting each: handled below. */
const GO_SPECIAL = new Set(['listen-env', 'log.syslog.address', 'log.syslog.proto', 'log.json', 'version']);
const GO_BOOL = new Set(['log.json', 'version']);

/** Short flags we have (-n, -h): a single-dash word made only of these is a cluster of them. */
const SHORTS: readonly string[] = Object.values(COMMAND_OPTIONS).flatMap((o) => ('short' in o ? [o.short] : []));
const SHORT_CLUSTER = new RegExp(`^-[${SHORTS.join('')}]+$`);

function usage(message: string): never {
  throw new UsageError(`${COMMAND}: ${message}`, `try '${COMMAND} --help'`);
}

/** Go's strconv.ParseBool, which its flag package uses for `-flag=value`. */
function goBool(name: string, v: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  return usage(`invalid boolean value '${v}' for -${name}`);
}

/** Go fingerd's -listen: `:79` and `79` mean every address of both families. */
function goListen(v: string): string[] {
  const port = /^:?(\d{1,5})$/.exec(v)?.[1];
  return port === undefined ? [v] : [`0.0.0.0:${port}`, `[::]:${port}`];
}

/** Go fingerd's syslog address is host:port over -log.syslog.proto (udp by default); ours is a URL. */
function syslogUrl(address: string, proto: string): string {
  if (/^(udp|tcp|unix):\/\//.test(address)) return address;
  if (address.startsWith('/')) return `unix://${address}`;
  return `${proto}://${address}`;
}

/**
 * Rewrite Go-style flags to ours, and refuse a single-dash word that is
 * neither a Go fingerd flag nor a cluster of our short flags, naming it whole
 * (`-homes` is not `-h -o -m -e -s`). Everything else passes through.
 * `env` is read for -listen-env.
 */
export function normaliseLegacyFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const out: string[] = [];
  const goListens: string[] = [];
  let listenEnv: string | undefined;
  let syslogAddress: string | undefined;
  let syslogProto = 'udp';
  let rest: readonly string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      rest = argv.slice(i);
      break;
    }
    const m = /^(--?)([a-z][a-z0-9.-]*[a-z0-9])(=.*)?$/.exec(a);
    const dashes = m?.[1];
    const name = m?.[2] ?? '';
    const ours = flagTakesValue(name);
    // Our own long flags, as they are; their values are skipped so a value that starts with a dash is not read as a flag.
    if (dashes === '--' && ours !== undefined) {
      out.push(a);
      if (ours && m?.[3] === undefined && i + 1 < argv.length) out.push(argv[++i] ?? '');
      continue;
    }
    const setting = GO_SETTINGS.get(name);
    if (m === null || (setting === undefined && !GO_SPECIAL.has(name))) {
      if (a.startsWith('-') && !a.startsWith('--') && a.length > 2 && !SHORT_CLUSTER.test(a)) usage(`unknown option '${a}'`);
      out.push(a);
      continue;
    }
    const bool = setting?.bool ?? GO_BOOL.has(name);
    let value = m[3]?.slice(1);
    if (!bool && value === undefined) {
      if (i + 1 >= argv.length) usage(`option '-${name}' needs an argument`);
      value = argv[++i] ?? '';
    }
    if (bool) {
      const on = value === undefined || goBool(name, value);
      if (name === 'log.json') out.push(`--log-format=${on ? 'json' : 'text'}`);
      else if (on) out.push(`--${setting?.flag ?? name}`);
      continue;
    }
    const v = value ?? '';
    switch (name) {
      case 'listen':
        goListens.push(...goListen(v));
        break;
      case 'listen-env':
        listenEnv = v;
        break;
      case 'log.syslog.address':
        syslogAddress = v;
        break;
      case 'log.syslog.proto':
        syslogProto = v.toLowerCase();
        if (syslogProto !== 'udp' && syslogProto !== 'tcp') usage(`-log.syslog.proto wants udp or tcp, not '${v}'`);
        break;
      default:
        out.push(`--${setting?.flag ?? name}=${setting?.go.value?.(v) ?? v}`);
    }
  }
  // -listen-env names a variable that holds the address; it wins over -listen, as in Go fingerd.
  if (listenEnv !== undefined) {
    const v = env[listenEnv];
    if (v === undefined) usage(`-listen-env ${listenEnv}: $${listenEnv} is not set`);
    goListens.splice(0, goListens.length, ...goListen(v));
  }
  for (const l of goListens) out.push(`--listen=${l}`);
  if (syslogAddress !== undefined) out.push(`--log-syslog=${syslogUrl(syslogAddress, syslogProto)}`);
  return [...out, ...rest];
}
