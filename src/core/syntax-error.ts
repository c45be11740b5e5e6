/**
 * A parse error in a file or an expression. It is a real `SyntaxError`, and
 * carries where it happened so that `format()` can print the BSD-style
 * `file:line:col: message` followed by the offending line and a caret.
 */
export class SourceSyntaxError extends SyntaxError {
  readonly code: string;
  /** File name, or a label such as `<expr>` for an expression given on the command line. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, counted in UTF-16 code units like the rest of JavaScript. */
  readonly column: number;
  /** The whole source text, kept so that `format()` can show the line. */
  readonly source: string;
  /** How many columns the caret underlines (at least one). */
  readonly length: number;

  constructor(
    message: string,
    where: { file: string; source: string; line: number; column: number; length?: number; code?: string },
  ) {
    super(message);
    this.name = 'SourceSyntaxError';
    this.code = where.code ?? 'MOAT_SYNTAX';
    this.file = where.file;
    this.source = where.source;
    this.line = where.line;
    this.column = where.column;
    this.length = Math.max(1, where.length ?? 1);
  }

  /** Build one from a 0-based offset into `source`. */
  static at(
    message: string,
    file: string,
    source: string,
    offset: number,
    length = 1,
    code?: string,
  ): SourceSyntaxError {
    const { line, column } = lineColumn(source, offset);
    return new SourceSyntaxError(message, code === undefined ? { file, source, line, column, length } : { file, source, line, column, length, code });
  }

  /** `file:line:col: message`, the source line, and a caret under the column. */
  format(): string {
    const head = `${this.file}:${String(this.line)}:${String(this.column)}: ${this.message}`;
    const text = this.source.split('\n')[this.line - 1];
    if (text === undefined) return head;
    const shown = text.replace(/\r$/, '').replace(/\t/g, ' ');
    const pad = ' '.repeat(Math.max(0, this.column - 1));
    const room = Math.max(1, Math.min(this.length, shown.length - (this.column - 1)));
    return `${head}\n${shown}\n${pad}${'^'.repeat(room)}`;
  }
}

/** 1-based line and column of a 0-based offset. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(Math.max(0, offset), source.length);
  for (let i = 0; i < end; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: end - start + 1 };
}

/**
 * Several errors in one file, all reported at once (as a compiler does), so
 * that fixing a spec takes one run, not one per mistake. It is the first of
 * them, so code that handles one SourceSyntaxError handles this too; its
 * `format()` prints every one, in the order of the file.
 */
export class SourceSyntaxErrors extends SourceSyntaxError {
  readonly errors: readonly SourceSyntaxError[];

  constructor(errors: readonly SourceSyntaxError[]) {
    const sorted = [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
    const first = sorted[0];
    if (first === undefined) throw new RangeError('SourceSyntaxErrors needs at least one error');
    super(first.message, first);
    this.name = 'SourceSyntaxErrors';
    this.errors = sorted;
  }

  /** One error as it is; several as a list and a count. */
  static of(errors: readonly SourceSyntaxError[]): SourceSyntaxError {
    const [only, ...more] = errors;
    if (only !== undefined && more.length === 0) return only;
    return new SourceSyntaxErrors(errors);
  }

  override format(): string {
    const all = this.errors.map((e) => e.format());
    return `${all.join('\n')}\n${String(this.errors.length)} errors`;
  }
}
