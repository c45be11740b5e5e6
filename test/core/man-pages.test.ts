import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { haveCommand, needs, repoRoot } from '../helpers/system.js';

const manDir = join(repoRoot, 'man');
const pages = readdirSync(manDir).filter((f) => /\.[1-9]$/.test(f));

test('there is a man page for moat itself', () => {
  assert.ok(pages.includes('moat.1'));
});

for (const page of pages) {
  // -W warning: STYLE notes such as "referenced manual not found" depend on
  // what the machine has installed, so only warnings and errors count.
  test(`mandoc -Tlint is clean for ${page}`, (t) => {
    if (!needs(t, { mandoc: haveCommand('mandoc') })) return;
    const r = spawnSync('mandoc', ['-Tlint', '-W', 'warning', join(manDir, page)], { encoding: 'utf8' });
    assert.equal(r.stdout + r.stderr, '');
    assert.equal(r.status, 0);
  });
}
