// Compile errors: a SourceSyntaxError pointing into the expression, whose
// text contains libpcap's own message for the same input where libpcap
// rejects it too (the wording follows libpcap master, as in its reject tests).
import { SourceSyntaxError } from '../../core/index.js';

export const EXPR_FILE = '<expr>';

export function syntaxError(message: string, src: string, offset: number, length = 1): SourceSyntaxError {
  return SourceSyntaxError.at(message, EXPR_FILE, src, offset, length, 'MOAT_BPF_SYNTAX');
}

/** A semantic error raised during code generation, placed later by the caller. */
export class GenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GenError';
  }
}

export function fail(message: string): never {
  throw new GenError(message);
}
