/**
 * A progress line for long work. `update()` only stores numbers, so calling
 * it per packet or per file costs next to nothing; a timer redraws the line
 * at most `intervalMs` apart. When the stream is not a TTY it prints nothing
 * at all, so logs and pipes stay clean.
 */
export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  label: string;
  /** Total units, if known, for a percentage. */
  total?: number;
  /** Unit name for the count, e.g. `packets`, `files`. */
  unit?: string;
  intervalMs?: number;
}

export class Progress {
  private done = 0;
  private bytes = 0;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private readonly opts: ProgressOptions;
  readonly active: boolean;

  constructor(opts: ProgressOptions) {
    this.opts = opts;
    this.active = opts.stream.isTTY === true;
    if (this.active) {
      this.timer = setInterval(() => {
        this.draw();
      }, opts.intervalMs ?? 100);
      this.timer.unref();
    }
  }

  /** Record progress: `count` units done so far, and optionally bytes. */
  update(count: number, bytes?: number): void {
    this.done = count;
    if (bytes !== undefined) this.bytes = bytes;
  }

  /** The line as it would be drawn now (also used by tests). */
  render(): string {
    const secs = (Date.now() - this.started) / 1000;
    const unit = this.opts.unit ?? 'items';
    const total = this.opts.total !== undefined && this.opts.total > 0 ? this.opts.total : undefined;
    const parts = [`${this.opts.label}: ${String(this.done)}${total === undefined ? '' : `/${String(total)}`} ${unit}`];
    if (total !== undefined) parts.push(`${((100 * this.done) / total).toFixed(0)}%`);
    if (this.bytes > 0) parts.push(`${(this.bytes / 1e6).toFixed(1)} MB`);
    if (secs > 0) parts.push(`${Math.round(this.done / secs)} ${unit}/s`);
    const width = (this.opts.stream.columns ?? 80) - 1;
    return parts.join(', ').slice(0, width);
  }

  private draw(): void {
    if (!this.active) return;
    // CR then erase-to-end-of-line (ECMA-48 EL) redraws in place.
    this.opts.stream.write(`\r${this.render()}\x1b[K`);
    this.drawn = true;
  }

  /** Stop redrawing and clear the line, leaving the terminal as it was. */
  finish(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.active && this.drawn) this.opts.stream.write('\r\x1b[K');
  }
}
