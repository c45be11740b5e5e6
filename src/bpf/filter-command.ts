// Placeholder: `moat bpf filter` is being built.
import { EX_UNAVAILABLE, type Io } from '../core/index.js';

export function filterMain(_argv: readonly string[], io: Io): Promise<number> {
  io.stderr.write('moat bpf filter: not built yet\n');
  return Promise.resolve(EX_UNAVAILABLE);
}
