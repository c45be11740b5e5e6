#!/usr/bin/env node
// The composition root: the only place that knows every tool, and the only
// place that calls process.exit. Importing a tool's index registers it with
// core. Only the tool that was asked for is loaded: every tool pulls in its
// own modules (zod schemas, the BPF compiler, the ELF reader), and a daemon or
// a `moat root ldd` in a shell loop should not pay for the other five.
import { readFileSync } from 'node:fs';
import { processIo, runCli } from '../src/core/index.js';

// tools: one line each, kept sorted. Literal paths, so the single-executable
// bundle (esbuild) still sees and includes every tool.
const TOOLS: Readonly<Record<string, () => Promise<unknown>>> = {
  bpf: () => import('../src/bpf/index.js'),
  finger: () => import('../src/finger/index.js'),
  ifstated: () => import('../src/ifstated/index.js'),
  jail: () => import('../src/jail/index.js'),
  net: () => import('../src/net/index.js'),
  portal: () => import('../src/portal/index.js'),
  root: () => import('../src/root/index.js'),
};
// end of tools

/** Load the tool named by the first argument; `--help` and unknown names need them all. */
async function loadTools(first: string | undefined): Promise<void> {
  const one = first !== undefined && Object.hasOwn(TOOLS, first) ? TOOLS[first] : undefined;
  if (one !== undefined) await one();
  else if (first !== '--version' && first !== '-V') await Promise.all(Object.values(TOOLS).map((load) => load()));
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

// No top-level await: the single-executable build bundles this as CommonJS.
const argv = process.argv.slice(2);
void loadTools(argv[0])
  .then(() => runCli(argv, processIo(), { version: version() }))
  // A tool that fails to load is a bug in moat: say so in one line (EX_SOFTWARE).
  .catch((e: unknown) => {
    process.stderr.write(`moat: internal error loading tools: ${e instanceof Error ? e.message : String(e)}\n`);
    return 70;
  })
  .then((code) => {
    process.exitCode = code;
    // Let stdout drain first, so `moat … | head` and pipes get everything.
    process.stdout.write('', () => process.exit(code));
  });
