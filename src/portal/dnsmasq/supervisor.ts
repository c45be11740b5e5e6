// Starting and watching dnsmasq(8): spawned without a shell, in the
// foreground (-k) with its log on stderr (--log-facility=-), restarted with
// a growing delay when it dies, stopped with SIGTERM (then SIGKILL). Its last
// log lines are kept in a bounded ring for status and error messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { MoatError } from '../../core/errors.js';

export const DNSMASQ_START = 'MOAT_PORTAL_DNSMASQ_START';
export const DNSMASQ_EXEC = 'MOAT_PORTAL_DNSMASQ_EXEC';

export interface DnsmasqLogger {
  info(message: string, fields?: Record<string, string | number | boolean>): void;
  warning(message: string, fields?: Record<string, string | number | boolean>): void;
}

export interface SuperviseOptions {
  configFile: string;
  /** Default `dnsmasq` on PATH. */
  dnsmasq?: string;
  /** Put before the argv (tests: `ip netns exec NS`). */
  prefix?: readonly string[];
  /** A name for log lines: `dnsmasq` or `dnsmasq-prelogin`. */
  name?: string;
  logger?: DnsmasqLogger;
  /** Log lines kept (default 200), each cut at 1,000 characters. */
  maxLogLines?: number;
  /** How long start() waits for "started" (default 10 s). */
  startTimeoutMs?: number;
  /** First restart delay (default 500 ms), doubled per quick death up to maxBackoffMs (default 30 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface DnsmasqSupervisor {
  /** Resolves once dnsmasq says it started (its sockets are bound); rejects if it exits first. */
  start(): Promise<void>;
  /** Stops it and stops restarting it. */
  stop(): Promise<void>;
  /** Stop and start again (a new configuration). */
  restart(): Promise<void>;
  readonly running: boolean;
  readonly pid: number | undefined;
  /** Restarts after unexpected exits. */
  readonly restarts: number;
  /** The last log lines. */
  log(): string[];
}

/** The argv that runs one dnsmasq with only our file. */
export function dnsmasqArgv(dnsmasq: string, configFile: string): string[] {
  // -C: this file only (not /etc/dnsmasq.conf); -k: foreground, so we are its parent and see it die.
  return [dnsmasq, '-k', `--conf-file=${configFile}`, '--log-facility=-'];
}

export function superviseDnsmasq(o: SuperviseOptions): DnsmasqSupervisor {
  const name = o.name ?? 'dnsmasq';
  const maxLines = o.maxLogLines ?? 200;
  const backoff0 = o.backoffMs ?? 500;
  const backoffMax = o.maxBackoffMs ?? 30_000;
  const ring: string[] = [];
  let child: ChildProcess | undefined;
  let wanted = false;
  let restarts = 0;
  let delay = backoff0;
  let restartTimer: NodeJS.Timeout | undefined;
  let startedAt = 0;

  const remember = (line: string): void => {
    ring.push(line.length > 1000 ? `${line.slice(0, 1000)}…` : line);
    if (ring.length > maxLines) ring.splice(0, ring.length - maxLines);
  };

  /** Spawn once; resolves when started, rejects when it exits or times out first. */
  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const argv = [...(o.prefix ?? []), ...dnsmasqArgv(o.dnsmasq ?? 'dnsmasq', o.configFile)];
      const [cmd = '', ...args] = argv;
      const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
      child = c;
      let ready = false;
      let partial = '';
      const timer = setTimeout(() => {
        if (ready) return;
        c.kill('SIGKILL');
        reject(new MoatError(DNSMASQ_START, `${name} did not start within ${String(o.startTimeoutMs ?? 10_000)} ms: ${ring.slice(-3).join(' | ')}`));
      }, o.startTimeoutMs ?? 10_000);
      const onData = (b: Buffer): void => {
        partial += b.toString('utf8');
        if (partial.length > 64 * 1024) partial = partial.slice(-4096);
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          remember(line);
          // dnsmasq logs "started, version N ..." once its sockets are open.
          if (!ready && /\bstarted, version\b/.test(line)) {
            ready = true;
            startedAt = Date.now();
            clearTimeout(timer);
            resolve();
          }
        }
      };
      c.stdout.on('data', onData);
      c.stderr.on('data', onData);
      c.on('error', (e) => {
        clearTimeout(timer);
        if (!ready) reject(new MoatError(DNSMASQ_EXEC, `cannot run ${cmd}: ${e.message}`, { cause: e }));
      });
      c.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (child === c) child = undefined;
        const how = signal === null ? `exit ${String(code)}` : `signal ${signal}`;
        if (!ready) {
          reject(new MoatError(DNSMASQ_START, `${name} failed to start (${how}): ${ring.slice(-3).join(' | ')}`));
          return;
        }
        if (!wanted) return;
        // It ran for a while: start the backoff over.
        if (Date.now() - startedAt > 60_000) delay = backoff0;
        o.logger?.warning(`${name} died (${how}); restarting in ${String(delay)} ms`, { last: ring.at(-1) ?? '' });
        scheduleRestart();
      });
    });

  const scheduleRestart = (): void => {
    const wait = delay;
    delay = Math.min(backoffMax, delay * 2);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (!wanted) return;
      restarts++;
      launch().then(
        () => o.logger?.info(`${name} restarted`, { pid: child?.pid ?? 0 }),
        (e: unknown) => {
          o.logger?.warning(`${name} restart failed`, { error: e instanceof Error ? e.message : String(e) });
          if (wanted) scheduleRestart();
        },
      );
    }, wait);
    restartTimer.unref();
  };

  const stopChild = async (): Promise<void> => {
    if (restartTimer !== undefined) {
      clearTimeout(restartTimer);
      restartTimer = undefined;
    }
    const c = child;
    if (c?.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      c.kill('SIGTERM');
    });
  };

  return {
    async start() {
      if (wanted) return;
      wanted = true;
      delay = backoff0;
      try {
        await launch();
      } catch (e) {
        wanted = false;
        throw e;
      }
    },
    async stop() {
      wanted = false;
      await stopChild();
    },
    async restart() {
      wanted = false;
      await stopChild();
      wanted = true;
      delay = backoff0;
      await launch();
    },
    get running() {
      return child?.exitCode === null && child.signalCode === null;
    },
    get pid() {
      return child?.pid;
    },
    get restarts() {
      return restarts;
    },
    log() {
      return [...ring];
    },
  };
}

/** `dnsmasq --test`: is this configuration acceptable to dnsmasq itself? */
export function checkDnsmasqConfigArgv(dnsmasq: string, configFile: string): string[] {
  return [dnsmasq, '--test', `--conf-file=${configFile}`];
}
