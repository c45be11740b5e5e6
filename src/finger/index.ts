// Placeholder until this tool is built: it registers the name so that the
// CLI lists it, and says plainly that it is not available yet.
import { EX_UNAVAILABLE, registerTool, type Io } from '../core/index.js';

export function main(_argv: readonly string[], io: Io): Promise<number> {
  io.stderr.write('moat finger: not built yet\n');
  return Promise.resolve(EX_UNAVAILABLE);
}

registerTool({ name: 'finger', summary: 'a hardened RFC 1288 finger service', manPage: 'moat-finger(8)', main });
