/**
 * Run a test or `run` command without a shell where we can. ifstated.c runs
 * both through /bin/sh -c; a command with no shell syntax gives the same
 * result when split on blanks and executed directly, with one process fewer
 * and no quoting to get wrong. Anything that needs the shell still gets it.
 * Each run has a timeout, after which its whole process group is killed, and
 * its output is kept up to a bound.
 */
import { spawn } from 'node:child_process';

/** Characters that mean sh(1) would do more than split on blanks. */
const SHELL_SYNTAX = /[|&;<>()$`\\"'*?[\]#~=%{}!\n]/;

/** The exit status of a command that could not be started at all, as sh(1) gives it. */
export const EXIT_NOT_RUN = 127;

export function commandArgv(command: string): string[] {
  const trimmed = command.trim();
  if (trimmed === '' || SHELL_SYNTAX.test(trimmed)) return ['/bin/sh', '-c', command];
  return trimmed.split(/[ \t]+/);
}

export interface RunResult {
  /** Exit status, or undefined when killed by a signal or not started. */
  code: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  /** Set when the command could not be started at all (ENOENT...). */
  spawnError: string | undefined;
  durationMs: number;
  /** stdout and stderr interleaved, at most `maxOutput` bytes. */
  output: string;
}

export interface RunOptions {
  timeoutMs: number;
  maxOutput?: number;
  env?: NodeJS.ProcessEnv;
  /** Keep stdout and stderr (run actions); tests only need the exit status. */
  captureOutput?: boolean;
}

export interface Running {
  pid: number | undefined;
  done: Promise<RunResult>;
  kill(): void;
}

export function runCommand(command: string, options: RunOptions): Running {
  const argv = commandArgv(command);
  const start = performance.now();
  const max = options.maxOutput ?? 16 * 1024;
  const [file, ...args] = argv;
  // detached: the child leads its own process group, so a timeout also kills
  // what a shell started (ping under sh -c).
  const capture = options.captureOutput ?? true;
  // Without capture no pipes are made: 50 tests a second cost less that way.
  const child = spawn(file ?? '/bin/sh', args, { shell: false, detached: true, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'ignore', env: options.env ?? process.env });
  let output = '';
  let truncated = false;
  const collect = (chunk: Buffer): void => {
    if (output.length >= max) {
      truncated = true;
      return;
    }
    output += chunk.toString('utf8').slice(0, max - output.length);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let timedOut = false;
  let spawnError: string | undefined;
  const killGroup = (): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, options.timeoutMs);
  timer.unref();
  const done = new Promise<RunResult>((resolve) => {
    child.once('error', (e) => {
      spawnError = e.message;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // Kill stragglers the command left behind in its group.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group is already gone
        }
      }
      resolve({
        // A command that could not be started (ENOENT...) exits 127, as under sh(1).
        code: spawnError !== undefined ? EXIT_NOT_RUN : (code ?? undefined),
        signal: signal ?? undefined,
        timedOut,
        spawnError,
        durationMs: performance.now() - start,
        output: truncated ? `${output}[truncated]` : output,
      });
    });
  });
  return { pid: child.pid, done, kill: killGroup };
}
