// The tool table in bin/tools.ts is the only list of tools: these tests take
// every tool from it, so a new row is checked without editing them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TOOLS } from '../../bin/tools.js';
import { runCli, type ToolEntry } from '../../src/core/index.js';
import { captureIo } from '../helpers/io.js';
import { repoRoot } from '../helpers/system.js';

const overview = readFileSync(join(repoRoot, 'man', 'moat.1'), 'utf8');

test('the table is sorted and names each tool once', () => {
  const names = TOOLS.map((t) => t.name);
  assert.deepEqual(names, [...names].sort());
  assert.equal(new Set(names).size, names.length);
});

for (const tool of TOOLS) {
  test(`${tool.name}: man page moat-${tool.name}.8 exists, is the one named, and moat(1) lists it`, () => {
    assert.equal(tool.manPage, `moat-${tool.name}(8)`);
    const page = readFileSync(join(repoRoot, 'man', `moat-${tool.name}.8`), 'utf8');
    assert.match(page, new RegExp(`^\\.Dt MOAT-${tool.name.toUpperCase()} 8`, 'm'));
    assert.match(overview, new RegExp(`^\\.Xr moat-${tool.name} 8`, 'm'));
  });

  test(`${tool.name}: loads on its own and answers --help on one screen`, async () => {
    const io = captureIo();
    assert.equal(await runCli([tool.name, '--help'], io, { version: '0', tools: TOOLS }), 0);
    assert.match(io.out(), new RegExp(`moat ${tool.name}`));
    assert.ok(io.out().split('\n').length - 1 <= 24, `moat ${tool.name} --help: ${String(io.out().split('\n').length)} lines`);
  });
}

test('moat --help and --version load no tool', async () => {
  // Loaders that fail: if --help touched one, the command would fail.
  const unloadable: ToolEntry[] = TOOLS.map((t) => ({ ...t, load: () => Promise.reject(new Error(`${t.name} was loaded`)) }));
  let io = captureIo();
  assert.equal(await runCli(['--help'], io, { version: '1.2.3', tools: unloadable }), 0);
  for (const t of TOOLS) assert.match(io.out(), new RegExp(`^  ${t.name} +${t.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  io = captureIo();
  assert.equal(await runCli(['--version'], io, { version: '1.2.3', tools: unloadable }), 0);
  assert.equal(io.out(), 'moat 1.2.3\n');
});
