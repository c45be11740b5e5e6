import { EX_SOFTWARE, EX_USAGE } from './exit-codes.js';

/**
 * Every error moat raises on purpose carries a stable `code` (like undici's
 * `UND_ERR_*`), so that callers and tests match on the code, never the text.
 */
export class MoatError extends Error {
  readonly code: string;
  /** The sysexits(3) code a command should exit with when this error ends it. */
  readonly exitCode: number;

  constructor(code: string, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MoatError';
    this.code = code;
    this.exitCode = options?.exitCode ?? EX_SOFTWARE;
  }
}

/** A bad command line: one line naming the problem, exit 64 as BSD tools do. */
export class UsageError extends MoatError {
  /** How to get help, printed after the message: `try 'moat finger --help'`. */
  readonly hint: string;

  constructor(message: string, hint = "try 'moat --help'") {
    super('MOAT_USAGE', message, { exitCode: EX_USAGE });
    this.name = 'UsageError';
    this.hint = hint;
  }
}

/** Narrow an unknown thrown value to Node's errno-style error. */
export function isErrnoException(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

/** The message of anything thrown, without a stack. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
