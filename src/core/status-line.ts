import { constants } from 'node:os';

/**
 * A status line on demand, in the spirit of FreeBSD's Ctrl+T (SIGINFO): the
 * command, its pid, what it is doing, CPU time and RSS, on one stderr line.
 * Linux has no SIGINFO, so SIGUSR1 does the same everywhere.
 */
export interface StatusLineOptions {
  /** Command name shown first, e.g. `moat finger`. */
  command: string;
  /** What the command is doing right now; called on each signal. */
  describe: () => string;
  stream?: NodeJS.WritableStream;
}

/** Format one status line from the process's own accounting. */
export function statusLine(command: string, doing: string): string {
  const cpu = process.cpuUsage();
  const user = (cpu.user / 1e6).toFixed(2);
  const sys = (cpu.system / 1e6).toFixed(2);
  return `${command}[${String(process.pid)}]: ${doing}; ${user}u ${sys}s ${rssText()}\n`;
}

/**
 * The resident set size. On Linux libuv reads it from /proc/self/stat, which
 * a daemon confined to a chroot (moat finger --chroot) cannot reach: then the
 * peak from getrusage(2), which needs no file, is shown instead.
 */
function rssText(): string {
  const mb = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);
  try {
    return `${mb(process.memoryUsage.rss())}MB rss`;
  } catch {
    // resourceUsage().maxRSS is in kilobytes.
    return `${mb(process.resourceUsage().maxRSS * 1024)}MB max rss`;
  }
}

/** The signals that ask for a status line on this platform. */
export function statusSignals(): NodeJS.Signals[] {
  const signals: NodeJS.Signals[] = ['SIGUSR1'];
  if ('SIGINFO' in constants.signals) signals.push('SIGINFO');
  return signals;
}

/**
 * Install the handlers; returns a function that removes them. Installing a
 * SIGUSR1 handler also keeps Node from treating SIGUSR1 as "start the inspector".
 */
export function installStatusLine(options: StatusLineOptions): () => void {
  const stream = options.stream ?? process.stderr;
  const handler = (): void => {
    let doing: string;
    try {
      doing = options.describe();
    } catch {
      doing = 'status unavailable';
    }
    stream.write(statusLine(options.command, doing));
  };
  const signals = statusSignals();
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.removeListener(s, handler);
  };
}
