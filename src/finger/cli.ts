import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { intOption, parseCommandLine } from '../core/args.js';
import { UsageError } from '../core/errors.js';
import { EX_OK } from '../core/exit-codes.js';
import type { Io } from '../core/io.js';
import { parseSyslogTarget } from '../core/syslog-transport.js';
import { startDaemon } from './daemon.js';
import { normaliseLegacyFlags } from './legacy-flags.js';
import { parseListenAddress } from './listeners.js';
import { fromConfig, helpLines, merge, parseOptions, SETTING_ENTRIES, type FingerSettings, type Layer } from './settings.js';
import { insideChroot } from './confine.js';
import { startupChecks } from './startup-checks.js';

const COMMAND = 'moat finger';

/** `moat finger --help`: the option lines come from the settings table. */
export function usage(): string {
  return [
    'usage: moat finger [options]      a hardened RFC 1288 finger service',
    ...helpLines(),
    '  --config FILE         TOML (.toml) or YAML; keys are the long flags, flags win',
    "  -n, --check           run the daemon's checks and exit; --version; -h, --help",
    'Go fingerd flags (-homes-dir, -listen-env, -log.json, ...) work too.',
    'Signals: TERM stops, HUP reloads, USR1/INFO status line. See moat-finger(8).',
    '',
  ].join('\n');
}

export interface CommandLine {
  settings: FingerSettings;
  check: boolean;
  help: boolean;
  version: boolean;
}

/** Flags over config file over defaults; paths from a config file are relative to that file. */
export async function settingsFromArgv(argv: readonly string[], io: { cwd: string; env?: Readonly<Record<string, string | undefined>> }): Promise<CommandLine> {
  const { values } = parseCommandLine(COMMAND, normaliseLegacyFlags(argv, io.env ?? {}), parseOptions(), false);
  const v = values as Record<string, string | string[] | boolean | undefined>;
  const flags: Layer = {};
  for (const [key, s] of SETTING_ENTRIES) {
    const x = v[s.flag];
    if (x === undefined) continue;
    if (s.type === 'boolean' || s.type === 'list') flags[key] = x;
    else if (typeof x !== 'string') continue;
    else if (s.type === 'int') flags[key] = intOption(COMMAND, s.flag, x, 0, { min: s.min, max: s.max });
    else if (s.type === 'path') flags[key] = resolve(io.cwd, x);
    else if (s.values !== undefined && !s.values.includes(x)) usageError(`--${s.flag} wants ${s.values.join(', ')}, not '${x}'`);
    else flags[key] = x;
  }
  let config: Layer = {};
  if (typeof v.config === 'string') {
    const file = resolve(io.cwd, v.config);
    // The parsers are loaded only when a config file is given.
    const { loadConfigFile } = await import('./config-file.js');
    config = fromConfig(loadConfigFile(file), dirname(file));
  }
  const settings = merge(config, flags);
  if (settings.chroot !== undefined && settings.jail !== undefined) usageError('give --chroot or --jail, not both');
  // Check addresses now, so that --check and a bad flag fail before anything starts.
  for (const a of settings.listen) parseListenAddress(a);
  if (settings.logSyslog !== undefined) parseSyslogTarget(settings.logSyslog);
  // RFC 5424 §6.2.5: APP-NAME is 1 to 48 printable ASCII characters.
  if (!/^[\x21-\x7e]{1,48}$/.test(settings.logTag)) usageError(`--log-tag wants 1 to 48 printable ASCII characters, not '${settings.logTag}'`);
  return { settings, check: v.check === true, help: v.help === true, version: v.version === true };
}

function usageError(message: string): never {
  throw new UsageError(`${COMMAND}: ${message}`, `try '${COMMAND} --help'`);
}

/** moat's version from package.json beside the build; 'unknown' inside a single executable. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `moat finger`: run the daemon until SIGTERM. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const { settings, check, help, version } = await settingsFromArgv(argv, io);
  if (help) {
    io.stdout.write(usage());
    return EX_OK;
  }
  if (version) {
    io.stdout.write(`moat finger ${packageVersion()} (node ${process.version})\n`);
    return EX_OK;
  }
  // -n checks the data paths where the confined daemon will find them: under DIR.
  if (check) return checkOnly(settings.chroot === undefined ? settings : insideChroot(settings, settings.chroot), io);
  const daemon = await startDaemon(settings, io, { signals: true });
  await daemon.done;
  return EX_OK;
}

/** -n: the daemon's own checks (files, homes, root, the serving user), then a summary. */
function checkOnly(s: FingerSettings, io: Io): number {
  const c = startupChecks(s);
  const serving = c.identity === undefined ? `as started (uid ${String(c.serving.uid)})` : `uid ${String(c.serving.uid)} gid ${String(c.serving.gid)}`;
  io.stdout.write(
    [
      `listen: ${s.listen.join(' ')}`,
      `homes: ${s.homes}`,
      `aliases: ${String(c.aliases.size)}${s.aliases === undefined ? '' : ` from ${s.aliases}`}`,
      `passwd: ${String(c.passwd.size)} entries`,
      `forwarding: ${s.forwardAllow.length === 0 ? 'refused' : s.forwardAllow.join(' ')}`,
      `user listing: ${s.listUsers ? 'opted-in users' : 'refused'}`,
      `run as: ${serving}${s.allowRoot ? ' (root allowed)' : ''}`,
      '',
    ].join('\n'),
  );
  return EX_OK;
}
