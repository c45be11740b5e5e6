#!/usr/bin/env node
// Node 20's `node --test` finds nothing when given a directory or a glob, so
// list the compiled test files ourselves and pass them explicitly.
// Usage: node scripts/run-tests.mjs [substring ...]  (filters files by path)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// MOAT_DIST lets parallel work build into its own folder (dist-<name>).
const dir = join(root, process.env.MOAT_DIST ?? 'dist', 'test');

function walk(d) {
  const out = [];
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk(dir)
  .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`run-tests: no test files found under ${dir}`);
  process.exit(1);
}
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
