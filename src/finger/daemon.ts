import { accessSync, constants, statSync } from 'node:fs';
import { Logger, MoatError, errorMessage, installStatusLine, type Io } from '../core/index.js';
import { loadAliases, type AliasTarget } from './aliases.js';
import type { FingerSettings } from './finger-config.js';
import { FileCache } from './file-cache.js';
import { ConnectionHandler, type ServerStats } from './finger-server.js';
import { ConnectionLimiter } from './limits.js';
import { bindAll, inheritedFds, parseListenAddress, type Bound } from './listeners.js';
import { loadPasswd, type PasswdEntry } from './passwd.js';
import { removePidfile, writePidfile } from './pidfile.js';
import { dropPrivileges, resolveRunAsUser, runningAsRoot, type Identity } from './privileges.js';
import { Responder } from './responder.js';
import { UserDirectory } from './user-directory.js';

export interface DaemonOptions {
  /** Install SIGHUP/SIGTERM/SIGINT and status handlers (the CLI does; in-process tests do not). */
  signals?: boolean;
  /** Port forwarded queries go to; RFC 1288 says 79, tests change it. */
  forwardPort?: number;
}

export interface FingerDaemon {
  /** What was bound, as `host:port` or `[v6]:port`. */
  readonly addresses: string[];
  stats(): ServerStats & { cacheHits: number; cacheMisses: number; tracked: number };
  /** Re-read finger.conf and the passwd file (SIGHUP). */
  reload(): void;
  /** Stop accepting, let open connections finish for up to `graceMs`, then close them. */
  close(graceMs?: number): Promise<void>;
  /** Resolves once the daemon has shut down. */
  readonly done: Promise<void>;
}

/** Start serving finger with these settings: load, bind, drop privileges, serve. */
export async function startDaemon(s: FingerSettings, io: Io, options: DaemonOptions = {}): Promise<FingerDaemon> {
  const stderr = s.logNoLocal ? undefined : io.stderr;
  const logger = new Logger({ appName: 'moat-finger', format: s.logFormat, ...(stderr === undefined ? {} : { stderr }), ...(s.logSyslog === undefined ? {} : { syslog: s.logSyslog }) });
  // The file's identity is taken before each read, so an edit that lands
  // after the read, at any time, differs from it and is picked up.
  let aliasesKey = s.aliases === undefined ? '' : fileKey(s.aliases);
  let aliases: ReadonlyMap<string, AliasTarget> = s.aliases === undefined ? new Map() : loadAliases(s.aliases);
  let passwd: ReadonlyMap<string, PasswdEntry> = s.passwd === undefined ? new Map() : loadPasswd(s.passwd);
  if (!statQuiet(s.homes)?.isDirectory()) throw new MoatError('MOAT_FINGER_HOMES', `homes directory ${s.homes} is not a directory`);

  // Decide about root before binding anything, so a refusal leaves no trace.
  let identity: Identity | undefined;
  if (s.runAsUser !== undefined) {
    identity = resolveRunAsUser(s.runAsUser);
    if (!runningAsRoot() && process.getuid?.() !== identity.uid) {
      throw new MoatError('MOAT_FINGER_PRIVS', `--run-as-user ${s.runAsUser} needs root to switch to`);
    }
    if (identity.uid === 0 && !s.allowRoot) throw refuseRoot();
  } else if (runningAsRoot() && !s.allowRoot) {
    throw refuseRoot();
  }

  const cache = new FileCache({ maxFileSize: s.maxFileSize, utf8: s.utf8 });
  const directory = new UserDirectory({ homes: s.homes, passwd, showName: s.showName, aliases, cache, recheckMs: s.recheckMs });
  const responder = new Responder(directory, {
    listUsers: s.listUsers,
    maxAnswer: Math.max(4 * s.maxFileSize, 65536),
    forwardAllow: s.forwardAllow.map((h) => h.toLowerCase()),
    forward: { timeoutMs: s.forwardTimeout * 1000, maxBytes: s.maxFileSize, utf8: s.utf8, ...(options.forwardPort === undefined ? {} : { port: options.forwardPort }) },
  });
  const limiter = new ConnectionLimiter({ maxConnections: s.maxConnections, maxPerIp: s.maxPerIp, ratePerSecond: s.rate, burst: s.burst });
  const handler = new ConnectionHandler(responder, limiter, logger, { readTimeoutMs: s.readTimeout * 1000, writeTimeoutMs: s.writeTimeout * 1000, maxLine: s.maxLine });

  const fds = inheritedFds(io.env);
  const bound: Bound[] = await bindAll(fds.length > 0 ? [] : s.listen.map(parseListenAddress), fds, handler.onConnection);
  const cleanups: (() => void)[] = [];
  try {
    if (identity !== undefined && runningAsRoot()) dropPrivileges(identity);
    if (s.pidfile !== undefined) {
      writePidfile(s.pidfile);
      const pidfile = s.pidfile;
      cleanups.push(() => {
        removePidfile(pidfile);
      });
    }
  } catch (e) {
    for (const b of bound) b.server.close();
    handler.stop();
    throw e;
  }
  const uid = process.getuid?.() ?? -1;
  if (uid === 0) logger.warning('serving as root (--allow-root)');
  try {
    accessSync(s.homes, constants.R_OK | constants.X_OK);
  } catch {
    // Typically a homes directory under a 0700 parent after dropping to nobody.
    logger.warning('homes directory is not readable as this user: every user will be unknown', { homes: s.homes, uid });
  }

  const reload = (): void => {
    try {
      if (s.aliases !== undefined) {
        // Taken first: a failed load still marks this version as seen, so a
        // bad edit is reported once rather than on every poll.
        aliasesKey = fileKey(s.aliases);
        aliases = loadAliases(s.aliases);
      }
      if (s.passwd !== undefined) passwd = loadPasswd(s.passwd);
      directory.update({ aliases, passwd });
      cache.clear();
      directory.forget();
      logger.info('reloaded', { aliases: aliases.size, passwd: passwd.size });
    } catch (e) {
      // A bad edit keeps the last good tables: the service goes on as it was.
      logger.error('reload failed; keeping the previous tables', { error: errorMessage(e) });
    }
  };
  if (s.aliases !== undefined) {
    // finger.conf reloads when it changes. Polling stat, not fs.watch, so an
    // editor that replaces the file (a new inode) is still seen, on every OS.
    // Compared with the version last loaded, not with the previous poll:
    // fs.watchFile takes its own first stat later, and an edit made between
    // the load and that stat was never seen.
    const file = s.aliases;
    const poll = setInterval(() => {
      if (fileKey(file) !== aliasesKey) reload();
    }, ALIASES_POLL_MS);
    poll.unref();
    cleanups.push(() => {
      clearInterval(poll);
    });
  }

  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  let closing: Promise<void> | undefined;
  const close = (graceMs = 5000): Promise<void> => {
    closing ??= (async () => {
      for (const b of bound) b.server.close();
      const until = Date.now() + graceMs;
      while (handler.sockets.size > 0 && Date.now() < until) await sleep(25);
      for (const sock of handler.sockets) sock.destroy();
      handler.stop();
      for (const c of cleanups) c();
      logger.info('stopped', { served: handler.served });
      await logger.close();
      resolveDone();
    })();
    return closing;
  };

  if (options.signals === true) {
    const onHup = (): void => {
      reload();
    };
    const onTerm = (): void => {
      void close();
    };
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onTerm);
    const removeStatus = installStatusLine({
      command: 'moat finger',
      describe: () => {
        const st = handler.stats();
        return `${String(st.open)} open, ${String(st.served)} served, ${String(st.refused)} refused, ${String(st.timeouts)} timed out, cache ${String(cache.hits)} hits ${String(cache.misses)} misses`;
      },
      stream: io.stderr,
    });
    cleanups.push(() => {
      process.removeListener('SIGHUP', onHup);
      process.removeListener('SIGTERM', onTerm);
      process.removeListener('SIGINT', onTerm);
      removeStatus();
    });
  }

  const addresses = bound.map((b) => b.label);
  logger.info('listening', { on: addresses.join(','), uid, gid: process.getgid?.() ?? -1, homes: s.homes });
  return {
    addresses,
    stats: () => ({ ...handler.stats(), cacheHits: cache.hits, cacheMisses: cache.misses, tracked: limiter.tracked }),
    reload,
    close,
    done,
  };
}

function refuseRoot(): MoatError {
  return new MoatError('MOAT_FINGER_ROOT', 'refusing to serve as root: give --run-as-user USER (or uid:gid), or --allow-root');
}

function statQuiet(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const ALIASES_POLL_MS = 2000;

/** What identifies one version of a file: device, inode, size and mtime; '' when it cannot be read. */
function fileKey(file: string): string {
  try {
    const st = statSync(file, { bigint: true });
    return `${String(st.dev)}:${String(st.ino)}:${String(st.size)}:${String(st.mtimeNs)}`;
  } catch {
    return '';
  }
}
