#!/usr/bin/env node
// The composition root: the only place that knows every tool, and the only
// place that calls process.exit. Each import registers one tool with core.
import { readFileSync } from 'node:fs';
import { processIo, runCli } from '../src/core/index.js';
// tools: one line each, kept sorted
import '../src/bpf/index.js';
import '../src/finger/index.js';
import '../src/ifstated/index.js';
import '../src/jail/index.js';
import '../src/net/index.js';
import '../src/root/index.js';
// end of tools

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

// No top-level await: the single-executable build bundles this as CommonJS.
void runCli(process.argv.slice(2), processIo(), { version: version() }).then((code) => {
  process.exitCode = code;
  // Let stdout drain first, so `moat … | head` and pipes get everything.
  process.stdout.write('', () => process.exit(code));
});
