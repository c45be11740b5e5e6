// `moat portal run`: the daemon with its signal handlers. Only this file
// installs handlers; the library (daemon.ts) installs none.
import { EX_OK, installStatusLine, parseCommandLine, parseSyslogTarget, UsageError, writeFilesAtomically, type Io } from '../core/index.js';
import { checkFiles, configPath, describeSettings } from './check-command.js';
import { startPortal } from './daemon.js';
import { loadPortalConfig } from './portal-config.js';
import { unlinkSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

const COMMAND = 'moat portal run';

export async function runMain(argv: readonly string[], io: Io): Promise<number> {
  const { values: v } = parseCommandLine(
    COMMAND,
    argv,
    {
      file: { type: 'string', short: 'f' },
      check: { type: 'boolean', short: 'n' },
      pidfile: { type: 'string' },
      'log-syslog': { type: 'string' },
      'log-no-local': { type: 'boolean' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    false,
  );
  if (v.help === true) {
    io.stdout.write('usage: moat portal run [-n] [-f portal.yaml] [--pidfile FILE] [--log-syslog URL]\n                       [--log-no-local] [--log-format text|json]\n');
    return EX_OK;
  }
  const format = v['log-format'];
  if (format !== undefined && format !== 'text' && format !== 'json') throw new UsageError(`${COMMAND}: --log-format wants text or json, not '${format}'`, `try '${COMMAND} --help'`);
  if (v['log-syslog'] !== undefined) parseSyslogTarget(v['log-syslog']);
  const settings = await loadPortalConfig(configPath(COMMAND, v.file, io));
  checkFiles(settings);
  if (v.check === true) {
    io.stdout.write(describeSettings(settings));
    return EX_OK;
  }
  const daemon = await startPortal(settings, io, {
    ...(v['log-syslog'] === undefined ? {} : { logSyslog: v['log-syslog'] }),
    ...(v['log-no-local'] === true ? { logNoLocal: true } : {}),
    ...(format === undefined ? {} : { logFormat: format }),
  });
  const pidfile = v.pidfile === undefined ? undefined : resolve(io.cwd, v.pidfile);
  // A temporary file renamed into place: a symlink planted at the name is replaced, never followed.
  if (pidfile !== undefined) await writeFilesAtomically(dirname(pidfile), [{ path: basename(pidfile), content: `${String(process.pid)}\n` }]).catch(async (e: unknown) => { await daemon.close(); throw e; });
  const onHup = (): void => {
    void daemon.reload();
  };
  const onTerm = (): void => {
    void daemon.close();
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  const removeStatus = installStatusLine({ command: 'moat portal', describe: () => daemon.describe(), stream: io.stderr });
  try {
    await daemon.done;
  } finally {
    process.removeListener('SIGHUP', onHup);
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('SIGINT', onTerm);
    removeStatus();
    if (pidfile !== undefined) {
      try {
        unlinkSync(pidfile);
      } catch {
        // already gone
      }
    }
  }
  return EX_OK;
}
