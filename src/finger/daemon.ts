import { statSync } from 'node:fs';
import { errorMessage } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { Logger } from '../core/logger.js';
import { installStatusLine } from '../core/status-line.js';
import { loadAliases } from './aliases.js';
import { FileCache } from './file-cache.js';
import { ConnectionHandler, type ServerStats } from './finger-server.js';
import { ConnectionLimiter } from './limits.js';
import { bindAll, inheritedFds, parseListenAddress, type Bound } from './listeners.js';
import { loadPasswd } from './passwd.js';
import { removePidfile, writePidfile } from './pidfile.js';
import { dropPrivileges, runningAsRoot } from './privileges.js';
import { Responder } from './responder.js';
import type { FingerSettings } from './settings.js';
import { describeConfine, enter, insideChroot, prepareConfinement, preload, type ConfineRequest } from './confine.js';
import { checkHomesReadable, checkIdentity, loadData, startupChecks } from './startup-checks.js';
import { UserDirectory } from './user-directory.js';

export interface DaemonOptions {
  /** Install SIGHUP/SIGTERM/SIGINT and status handlers (the CLI does; in-process tests do not). */
  signals?: boolean;
  /** Port forwarded queries go to; RFC 1288 says 79, tests change it. */
  forwardPort?: number;
  /** Confine after binding (confine.ts); by default as --chroot or --jail in the settings say. */
  confine?: ConfineRequest;
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
  const logger = new Logger({ appName: s.logTag, format: s.logFormat, level: s.logLevel, ...(stderr === undefined ? {} : { stderr }), ...(s.logSyslog === undefined ? {} : { syslog: s.logSyslog }) });
  const request: ConfineRequest | undefined = options.confine ?? (s.chroot !== undefined ? { chroot: s.chroot } : s.jail !== undefined ? { jail: s.jail } : undefined);
  // Everything that can refuse is decided before binding, so a refusal leaves
  // no trace. Confined, the homes, finger.conf and passwd are paths inside:
  // under DIR they are checked from here too, and loaded again once inside;
  // a jail's are seen only from inside.
  const confinement = request === undefined ? undefined : prepareConfinement(request);
  // The file's identity is taken before each read, so an edit that lands
  // after the read, at any time, differs from it and is picked up.
  let aliasesKey = request === undefined && s.aliases !== undefined ? fileKey(s.aliases) : '';
  const checked =
    request === undefined ? startupChecks(s) : 'chroot' in request ? startupChecks(insideChroot(s, request.chroot)) : { aliases: new Map(), passwd: new Map(), ...checkIdentity(s) };
  const { identity, serving } = checked;
  let aliases = checked.aliases;
  let passwd = checked.passwd;

  const cache = new FileCache({ maxFileSize: s.maxFileSize, utf8: s.utf8 });
  const directory = new UserDirectory({ homes: s.homes, passwd, showName: s.showName, aliases, cache, recheckMs: s.recheckMs, minUid: s.minUid });
  const responder = new Responder(directory, {
    listUsers: s.listUsers,
    maxAnswer: Math.max(4 * s.maxFileSize, 65536),
    forwardAllow: s.forwardAllow.map((h) => h.toLowerCase()),
    forward: { timeoutMs: s.forwardTimeout * 1000, maxBytes: s.maxFileSize, utf8: s.utf8, ...(options.forwardPort === undefined ? {} : { port: options.forwardPort }) },
  });
  const limiter = new ConnectionLimiter({ maxConnections: s.maxConnections, maxPerIp: s.maxPerIp, ratePerSecond: s.rate, burst: s.burst });
  // Nothing is formatted per query for a log that would write it nowhere.
  const logQueries = logger.enabled('info') && (stderr !== undefined || s.logSyslog !== undefined);
  const handler = new ConnectionHandler(responder, limiter, logger, { readTimeoutMs: s.readTimeout * 1000, writeTimeoutMs: s.writeTimeout * 1000, maxLine: s.maxLine, logQueries });

  const fds = inheritedFds(io.env);
  let bound: Bound[];
  try {
    bound = await bindAll(fds.length > 0 ? [] : s.listen.map(parseListenAddress), fds, handler.onConnection);
  } catch (e) {
    handler.stop();
    throw e;
  }
  const cleanups: (() => void)[] = [];
  try {
    // After binding and before the privilege drop, as Go fingerd does: the
    // pid directory may then belong to root.
    if (s.pidfile !== undefined) {
      writePidfile(s.pidfile);
      const pidfile = s.pidfile;
      // Confined, the daemon can no longer reach it: the service manager removes it.
      if (confinement === undefined) {
        cleanups.push(() => {
          removePidfile(pidfile);
        });
      }
    }
    if (confinement !== undefined && request !== undefined) {
      await preload(logger, describeConfine(request));
      const { noNewPrivs } = enter(confinement);
      if (identity !== undefined) dropPrivileges(identity);
      if (!noNewPrivs) logger.warning('this system has no no_new_privs: execve(2) of a setuid file inside could still gain privileges');
      // Inside now: the tables from there, checked as the serving user.
      aliasesKey = s.aliases === undefined ? '' : fileKey(s.aliases);
      ({ aliases, passwd } = loadData(s));
      checkHomesReadable(s.homes, undefined, serving);
      directory.update({ aliases, passwd });
    } else {
      if (identity !== undefined && runningAsRoot()) dropPrivileges(identity);
      // Now ask the kernel, as the serving user (ACLs, MAC and all).
      checkHomesReadable(s.homes, undefined, serving);
    }
  } catch (e) {
    for (const b of bound) b.server.close();
    handler.stop();
    for (const c of cleanups) c();
    throw e;
  }
  const uid = process.getuid?.() ?? -1;
  if (uid === 0) logger.warning('serving as root (--allow-root)');

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
  logger.info('listening', { on: addresses.join(','), uid, gid: process.getgid?.() ?? -1, homes: s.homes, ...(request === undefined ? {} : { confined: describeConfine(request) }) });
  return {
    addresses,
    stats: () => ({ ...handler.stats(), cacheHits: cache.hits, cacheMisses: cache.misses, tracked: limiter.tracked }),
    reload,
    close,
    done,
  };
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
