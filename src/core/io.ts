/**
 * What a command may touch of the outside world. The CLI entry passes the real
 * process streams; tests pass buffers, so commands run in-process.
 */
export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** A command: parses its own argv (without the tool name) and returns an exit code. */
export type CommandMain = (argv: readonly string[], io: Io) => Promise<number>;

/** The real process, for the CLI entry. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // Read only when used: process.stdin builds a stream (tty, net or fs)
    // on first access, a cost every command would pay at start-up.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
  };
}
