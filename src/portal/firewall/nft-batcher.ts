// One nft(8) process per batch of changes. While one `nft -f -` runs, new
// changes queue; when it ends, all queued changes go to the next process as
// one script, which the kernel applies as one transaction. A login therefore
// costs one element change in one batch, and 200 logins at once cost a
// handful of nft processes, not 200 (openNDS runs one nft per rule).
// If a combined batch fails, its parts are retried one by one, so one bad
// change cannot fail the others.
import { MoatError } from '../../core/errors.js';
import type { CommandRunner } from './command-runner.js';

export const FW_NFT = 'MOAT_PORTAL_FW_NFT';

interface Pending {
  script: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class NftBatcher {
  private queue: Pending[] = [];
  private busy = false;
  /** Number of nft processes started (for tests and metrics). */
  processes = 0;

  constructor(
    private readonly runner: CommandRunner,
    nft: string,
    /** Most changes in one process; bounds the script size. */
    private readonly maxBatch = 512,
    /** The program's argv; default `nft -f -`. */
    private readonly argv: readonly string[] = [nft, '-f', '-'],
  ) {}

  /** Apply `script` (nft commands, one a line) in a transaction, with whatever else is queued. */
  apply(script: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ script, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const err = await this.runOnce(batch.map((p) => p.script).join('\n'));
        if (err === undefined) {
          for (const p of batch) p.resolve();
        } else if (batch.length === 1) {
          batch[0]?.reject(err);
        } else {
          for (const p of batch) {
            const e = await this.runOnce(p.script);
            if (e === undefined) p.resolve();
            else p.reject(e);
          }
        }
      }
    } finally {
      this.busy = false;
    }
  }

  /** Run one script; the error (not thrown) when it fails. */
  async runOnce(script: string): Promise<MoatError | undefined> {
    this.processes++;
    try {
      const r = await this.runner.run(this.argv, script);
      if (r.code === 0) return undefined;
      return new MoatError(FW_NFT, `${this.argv[0] ?? 'nft'} failed: ${firstLines(r.stderr)}`);
    } catch (e) {
      return e instanceof MoatError ? e : new MoatError(FW_NFT, String(e));
    }
  }
}

/** nft's error text, bounded: the first few lines say which command and why. */
export function firstLines(s: string, n = 6): string {
  return s.split('\n').filter((l) => l.trim() !== '').slice(0, n).join(' | ').slice(0, 2000);
}
