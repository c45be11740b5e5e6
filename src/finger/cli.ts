import { dirname, resolve } from 'node:path';
import { EX_OK, MoatError, UsageError, intOption, parseCommandLine, parseSyslogTarget, type Io } from '../core/index.js';
import { parseListenAddress } from './listeners.js';
import { loadAliases } from './aliases.js';
import { loadPasswd } from './passwd.js';
import { statSync } from 'node:fs';
import { applyConfig, DEFAULTS, loadConfigFile, type FingerSettings } from './finger-config.js';
import { startDaemon } from './daemon.js';
import { normaliseLegacyFlags } from './legacy-flags.js';

const COMMAND = 'moat finger';

export const USAGE = `usage: moat finger [options]
A hardened RFC 1288 finger service; see moat-finger(8).
  --listen HOST:PORT    address to serve (repeat; default 0.0.0.0:79 and [::]:79)
  --homes DIR           one directory per user: DIR/name (default /home)
  --aliases FILE        finger.conf: alias:target lines; reloads on change and SIGHUP
  --passwd FILE         passwd(5) file for full names, shown with --show-name
  --list-users          answer {C} with users who opted in (~/.fingerlist)
  --forward-allow HOST  allow one-hop forwarding to HOST (repeat; default none)
  --run-as-user U       after binding, become U (name or uid:gid); --allow-root
  --pidfile FILE        write the pid here (after the privilege drop)
  --read-timeout S      seconds to receive the request (10); --write-timeout S (30)
  --max-line N          request line limit in bytes (512)
  --max-connections N   global cap (512); --max-per-ip N (16)
  --rate N --burst N    new connections per second per address (10, burst 20)
  --max-file-size N     largest .plan/.project/.pubkey served (65536)
  --recheck-ms N        reuse a checked answer this long (1000; 0: every query)
  --utf8                pass UTF-8 through (default: non-ASCII becomes '?')
  --log-syslog URL      udp://host:514, tcp://host:port or unix:///path
  --log-no-local        no log on stderr; --log-format text|json
  --config FILE         TOML (.toml) or YAML settings; flags win over it
  -n, --check           load everything, print what would be served, exit
Go fingerd flags -run-as-user, -pidfile, -log.syslog.address, -log.no-local work too.
Signals: SIGTERM stops, SIGHUP reloads, SIGUSR1/SIGINFO print a status line.
`;

const OPTIONS = {
  listen: { type: 'string', multiple: true },
  homes: { type: 'string' },
  aliases: { type: 'string' },
  passwd: { type: 'string' },
  'show-name': { type: 'boolean' },
  'list-users': { type: 'boolean' },
  'forward-allow': { type: 'string', multiple: true },
  'forward-timeout': { type: 'string' },
  'run-as-user': { type: 'string' },
  'allow-root': { type: 'boolean' },
  pidfile: { type: 'string' },
  'read-timeout': { type: 'string' },
  'write-timeout': { type: 'string' },
  'max-line': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-per-ip': { type: 'string' },
  rate: { type: 'string' },
  burst: { type: 'string' },
  'max-file-size': { type: 'string' },
  'recheck-ms': { type: 'string' },
  utf8: { type: 'boolean' },
  'log-syslog': { type: 'string' },
  'log-no-local': { type: 'boolean' },
  'log-format': { type: 'string' },
  config: { type: 'string' },
  // -n as in ifstated(8), sshd(8) -t and friends: check the configuration and exit.
  check: { type: 'boolean', short: 'n' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags over config file over defaults; paths from a config file are relative to that file. */
export function settingsFromArgv(argv: readonly string[], io: Pick<Io, 'cwd'>): { settings: FingerSettings; check: boolean; help: boolean } {
  const { values: v } = parseCommandLine(COMMAND, normaliseLegacyFlags(argv), OPTIONS, false);
  if (v.help === true) return { settings: DEFAULTS, check: false, help: true };
  let s = DEFAULTS;
  if (v.config !== undefined) {
    const file = resolve(io.cwd, v.config);
    const c = loadConfigFile(file);
    const dir = dirname(file);
    const rel = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(dir, p));
    s = applyConfig(s, { ...c, ...defined({ homes: rel(c.homes), aliases: rel(c.aliases), passwd: rel(c.passwd), pidfile: rel(c.pidfile) }) });
  }
  const at = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(io.cwd, p));
  const logFormat = v['log-format'];
  if (logFormat !== undefined && logFormat !== 'text' && logFormat !== 'json') {
    return usageError(`--log-format wants text or json, not '${logFormat}'`);
  }
  const num = (name: keyof typeof OPTIONS, fallback: number, min: number, max: number): number => intOption(COMMAND, name, v[name] as string | undefined, fallback, { min, max });
  const settings: FingerSettings = {
    listen: v.listen ?? s.listen,
    homes: at(v.homes) ?? s.homes,
    passwd: at(v.passwd) ?? s.passwd,
    showName: v['show-name'] ?? s.showName,
    listUsers: v['list-users'] ?? s.listUsers,
    forwardAllow: v['forward-allow'] ?? s.forwardAllow,
    forwardTimeout: num('forward-timeout', s.forwardTimeout, 1, 300),
    aliases: at(v.aliases) ?? s.aliases,
    runAsUser: v['run-as-user'] ?? s.runAsUser,
    allowRoot: v['allow-root'] ?? s.allowRoot,
    pidfile: at(v.pidfile) ?? s.pidfile,
    readTimeout: num('read-timeout', s.readTimeout, 1, 3600),
    writeTimeout: num('write-timeout', s.writeTimeout, 1, 3600),
    maxLine: num('max-line', s.maxLine, 16, 65536),
    maxConnections: num('max-connections', s.maxConnections, 1, 1_000_000),
    maxPerIp: num('max-per-ip', s.maxPerIp, 1, 1_000_000),
    rate: num('rate', s.rate, 1, 1_000_000),
    burst: num('burst', s.burst, 1, 1_000_000),
    maxFileSize: num('max-file-size', s.maxFileSize, 1, 16 * 1024 * 1024),
    recheckMs: num('recheck-ms', s.recheckMs, 0, 60000),
    utf8: v.utf8 ?? s.utf8,
    logSyslog: v['log-syslog'] ?? s.logSyslog,
    logNoLocal: v['log-no-local'] ?? s.logNoLocal,
    logFormat: logFormat ?? s.logFormat,
  };
  // Check addresses now, so that --check and a bad flag fail before anything starts.
  for (const a of settings.listen) parseListenAddress(a);
  if (settings.logSyslog !== undefined) parseSyslogTarget(settings.logSyslog);
  return { settings, check: v.check === true, help: false };
}

function usageError(message: string): never {
  throw new UsageError(`${COMMAND}: ${message}`, `try '${COMMAND} --help'`);
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;
}

/** `moat finger`: run the daemon until SIGTERM. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const { settings, check, help } = settingsFromArgv(argv, io);
  if (help) {
    io.stdout.write(USAGE);
    return EX_OK;
  }
  if (check) return checkOnly(settings, io);
  const daemon = await startDaemon(settings, io, { signals: true });
  await daemon.done;
  return EX_OK;
}

/** --check: load the config, finger.conf and passwd, and say what would be served. */
function checkOnly(s: FingerSettings, io: Io): number {
  const aliases = s.aliases === undefined ? new Map() : loadAliases(s.aliases);
  const passwd = s.passwd === undefined ? new Map() : loadPasswd(s.passwd);
  let homes = false;
  try {
    homes = statSync(s.homes).isDirectory();
  } catch {
    homes = false;
  }
  if (!homes) throw new MoatError('MOAT_FINGER_HOMES', `homes directory ${s.homes} is not a directory`);
  io.stdout.write(
    [
      `listen: ${s.listen.join(' ')}`,
      `homes: ${s.homes}`,
      `aliases: ${String(aliases.size)}${s.aliases === undefined ? '' : ` from ${s.aliases}`}`,
      `passwd: ${String(passwd.size)} entries`,
      `forwarding: ${s.forwardAllow.length === 0 ? 'refused' : s.forwardAllow.join(' ')}`,
      `user listing: ${s.listUsers ? 'opted-in users' : 'refused'}`,
      `run as: ${s.runAsUser ?? (s.allowRoot ? 'as started (root allowed)' : 'as started')}`,
      '',
    ].join('\n'),
  );
  return EX_OK;
}
