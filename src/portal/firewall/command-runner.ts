// Running nft(8), conntrack(8) and pfctl(8): argv arrays, never a shell;
// input on stdin; every run bounded in time and in output.
import { spawn } from 'node:child_process';
import { MoatError } from '../../core/errors.js';

export interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  /** Run argv with `input` on stdin. Never rejects for a non-zero exit; rejects when the program cannot be started or overruns. */
  run(argv: readonly string[], input?: string): Promise<RunOutput>;
}

export interface SpawnRunnerOptions {
  /** Put before every argv, e.g. `['ip', 'netns', 'exec', 'ns1']` (tests). */
  prefix?: readonly string[];
  timeoutMs?: number;
  /** Bytes of stdout kept; `nft -j list table` with 10,000 clients is a few MB. */
  maxOutput?: number;
}

export const FW_EXEC = 'MOAT_PORTAL_FW_EXEC';

export function spawnRunner(opts: SpawnRunnerOptions = {}): CommandRunner {
  const prefix = opts.prefix ?? [];
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxOutput = opts.maxOutput ?? 64 * 1024 * 1024;
  return {
    run(argv, input) {
      const full = [...prefix, ...argv];
      const [cmd = '', ...args] = full;
      return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let outLen = 0;
        let errLen = 0;
        let overrun: string | undefined;
        const timer = setTimeout(() => {
          overrun = `timed out after ${String(timeoutMs)} ms`;
          child.kill('SIGKILL');
        }, timeoutMs);
        child.stdout.on('data', (b: Buffer) => {
          outLen += b.length;
          if (outLen > maxOutput) {
            overrun = `wrote more than ${String(maxOutput)} bytes`;
            child.kill('SIGKILL');
          } else out.push(b);
        });
        child.stderr.on('data', (b: Buffer) => {
          errLen += b.length;
          if (errLen <= 65536) err.push(b);
        });
        child.on('error', (e) => {
          clearTimeout(timer);
          reject(new MoatError(FW_EXEC, `cannot run ${cmd}: ${e.message}`, { cause: e }));
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          if (overrun !== undefined) {
            reject(new MoatError(FW_EXEC, `${full.join(' ')}: ${overrun}`));
            return;
          }
          resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
        });
        // A program that exits before reading its input makes the pipe fail: that is reported by 'close'.
        child.stdin.on('error', () => undefined);
        child.stdin.end(input ?? '');
      });
    },
  };
}
