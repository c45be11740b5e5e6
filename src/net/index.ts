// Placeholder until this tool is built: it registers the name so that the
// CLI lists it, and says plainly that it is not available yet.
import { EX_UNAVAILABLE, registerTool, type Io } from '../core/index.js';

export function main(_argv: readonly string[], io: Io): Promise<number> {
  io.stderr.write('moat net: not built yet\n');
  return Promise.resolve(EX_UNAVAILABLE);
}

registerTool({ name: 'net', summary: 'render one network spec for FreeBSD, OpenBSD, NetBSD and Linux; lint it', manPage: 'moat-net(8)', main });
