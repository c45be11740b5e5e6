// The lint rule that keeps tools apart, run through ESLint's own Linter on
// small sources placed (by name) in the tree.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Linter } from 'eslint';
import { repoRoot } from '../helpers/system.js';

interface Plugin { rules: Record<string, unknown> }
const { default: moat } = (await import(join(repoRoot, 'scripts', 'eslint-tool-boundary.js'))) as { default: Plugin };

function lint(file: string, code: string): string[] {
  const linter = new Linter({ configType: 'flat' });
  const config = [{ files: ['**/*.ts'], plugins: { moat }, rules: { 'moat/tool-boundary': 'error' } }] as unknown as Linter.Config[];
  return linter.verify(code, config, { filename: join(repoRoot, file) }).map((m) => m.message);
}

test('a tool may import from itself and from core', () => {
  assert.deepEqual(lint('src/bpf/compiler/x.ts', "import { a } from '../insn.js';\nimport { b } from '../../core/index.js';\n"), []);
  assert.deepEqual(lint('src/finger/x.ts', "import { c } from './y.js';\nimport { readFile } from 'node:fs';\n"), []);
});

test('a tool that imports another tool fails lint, however the path is spelt', () => {
  for (const [file, spec] of [
    ['src/bpf/x.ts', '../finger/index.js'],
    ['src/bpf/compiler/x.ts', '../../net/render.js'],
    ['src/net/x.ts', './../root/tree.js'],
  ] as const) {
    const out = lint(file, `import { z } from '${spec}';\nexport { w } from '${spec}';\nexport * from '${spec}';\nvoid import('${spec}');\n`);
    assert.equal(out.length, 4, `${file} -> ${spec}: ${out.join('; ')}`);
    assert.match(out[0] ?? '', /a tool imports only from itself and core/);
  }
});

test('core imports no tool', () => {
  const out = lint('src/core/x.ts', "import { main } from '../finger/index.js';\n");
  assert.equal(out.length, 1);
  assert.match(out[0] ?? '', /core must not import from src\/finger/);
});
