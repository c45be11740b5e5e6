// Compile errors: a SourceSyntaxError pointing into the expression, whose
// text contains libpcap's own message for the same input where libpcap
// rejects it too (the wording follows libpcap master, as in its reject tests).
import { SourceSyntaxError } from '../../core/index.js';

export const EXPR_FILE = '<expr>';

export function syntaxError(message: string, src: string, offset: number, length = 1): SourceSyntaxError {
  return withoutStack(() => SourceSyntaxError.at(message, EXPR_FILE, src, offset, length, 'MOAT_BPF_SYNTAX'));
}

/**
 * Make an error without capturing a JavaScript stack. An error in the
 * expression is the user's, told by its message and caret (format()); its
 * stack would hold only the compiler's own frames (ten of them, the parser's
 * recursion or the code generator's), never the caller's, and capturing it
 * was half the time to compile an expression that is refused (~6 of ~13 µs).
 */
function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * A semantic error raised during code generation, placed later by the caller.
 * `linktypes`: the link types on which libpcap would have compiled the clause
 * ('any': whichever it is), i.e. where the error is only that moat bpf does
 * not compile for the link type; codegen then reports that instead.
 */
export class GenError extends Error {
  readonly linktypes: readonly number[] | 'any' | undefined;

  constructor(message: string, linktypes?: readonly number[] | 'any') {
    super(message);
    this.name = 'GenError';
    this.linktypes = linktypes;
  }
}

export function fail(message: string, linktypes?: readonly number[] | 'any'): never {
  // The code generator catches every GenError and throws a SourceSyntaxError
  // in its place: the stack a GenError would capture is never read, and
  // capturing it was an eighth of the time to compile an expression the code
  // generator rejects (37 µs → 33 µs).
  throw withoutStack(() => new GenError(message, linktypes));
}
