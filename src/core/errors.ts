import { exitStatusOf, type ErrorCode } from './error-codes.js';

/**
 * Every error moat raises on purpose carries a stable `code` (like undici's
 * `UND_ERR_*`), so that callers and tests match on the code, never the text.
 */
export class MoatError extends Error {
  readonly code: ErrorCode;
  /** The sysexits(3) code a command should exit with when this error ends it: the catalogue's, in error-codes.ts. */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MoatError';
    this.code = code;
    this.exitCode = exitStatusOf(code);
  }
}

/** A bad command line: one line naming the problem, exit 64 as BSD tools do. */
export class UsageError extends MoatError {
  /** How to get help, printed after the message: `try 'moat finger --help'`. */
  readonly hint: string;

  constructor(message: string, hint = "try 'moat --help'") {
    super('MOAT_USAGE', message);
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

// strerror(3) wording for the errors a file or socket operation commonly
// meets, so messages read as a BSD tool's do ("cannot read f: No such file or
// directory"). Node 20 has no util.getSystemErrorMessage.
const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EMFILE: 'Too many open files',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EEXIST: 'File exists',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: "Can't assign requested address",
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Operation timed out',
};

/** Why a system call failed, as strerror(3) says it, with the errno name: "No such file or directory (ENOENT)". */
export function errnoReason(e: unknown): string {
  if (!isErrnoException(e)) return errorMessage(e);
  const code = e.code ?? 'error';
  const text = STRERROR[code];
  return text === undefined ? code : `${text} (${code})`;
}
