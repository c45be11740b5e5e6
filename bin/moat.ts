#!/usr/bin/env node
// The composition root: the only place that calls process.exit. The tools
// are the rows of bin/tools.ts; only the one asked for is loaded.
import { readFileSync } from 'node:fs';
import { processIo, runCli } from '../src/core/index.js';
import { TOOLS } from './tools.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

// No top-level await: the single-executable build bundles this as CommonJS.
void runCli(process.argv.slice(2), processIo(), { version: version(), tools: TOOLS }).then((code) => {
  process.exitCode = code;
  // Let stdout drain first, so `moat … | head` and pipes get everything.
  process.stdout.write('', () => process.exit(code));
});
