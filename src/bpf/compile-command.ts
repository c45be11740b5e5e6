// Placeholder: `moat bpf compile` is being built.
import { EX_UNAVAILABLE, type Io } from '../core/index.js';

export function compileMain(_argv: readonly string[], io: Io): Promise<number> {
  io.stderr.write('moat bpf compile: not built yet\n');
  return Promise.resolve(EX_UNAVAILABLE);
}
