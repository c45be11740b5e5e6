// Placeholder: `moat bpf confine` is being built.
import { EX_UNAVAILABLE, type Io } from '../core/index.js';

export function confineMain(_argv: readonly string[], io: Io): Promise<number> {
  io.stderr.write('moat bpf confine: not built yet\n');
  return Promise.resolve(EX_UNAVAILABLE);
}
