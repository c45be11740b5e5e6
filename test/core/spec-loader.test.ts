import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { SourceSyntaxError, SourceSyntaxErrors, writeFilesAtomically } from '../../src/core/index.js';
import { loadSpec, parseSpec } from '../../src/core/spec-loader.js';

const schema = z.object({
  service: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lowercase name'),
  port: z.number().int().min(1).max(65535),
  mounts: z.array(z.object({ from: z.string(), to: z.string() })).default([]),
}).strict();

test('a valid spec parses to its value', () => {
  const v = parseSpec(schema, 'service: finger\nport: 79\n', 's.yaml');
  assert.deepEqual(v, { service: 'finger', port: 79, mounts: [] });
});

test('a bad value names the field and points at its line and column', () => {
  const text = 'service: finger\nmounts:\n  - from: /home\n    to: 7\nport: 79\n';
  assert.throws(() => parseSpec(schema, text, 's.yaml'), (e: unknown) => {
    assert.ok(e instanceof SourceSyntaxError);
    assert.equal(e.line, 4);
    assert.equal(e.column, 9);
    assert.match(e.format(), /^s\.yaml:4:9: mounts\.0\.to: .*\n {4}to: 7\n {8}\^$/);
    return true;
  });
});

test('a missing field points at the map that lacks it', () => {
  assert.throws(() => parseSpec(schema, 'service: finger\n', 's.yaml'), (e: unknown) => {
    assert.ok(e instanceof SourceSyntaxError);
    assert.equal(e.line, 1);
    assert.match(e.message, /^port: /);
    return true;
  });
});

test('unknown keys and YAML syntax errors are errors with positions', () => {
  assert.throws(() => parseSpec(schema, 'service: a\nport: 1\nextra: 2\n', 's.yaml'), (e: unknown) => {
    assert.ok(e instanceof SourceSyntaxError);
    assert.equal(e.format(), 's.yaml:3:1: extra: unknown field\nextra: 2\n^^^^^');
    return true;
  });
  // A near miss names the key it was probably meant to be, nested too.
  const strict = z.object({ service: z.string(), port: z.number(), mounts: z.array(z.object({ from: z.string(), to: z.string() }).strict()) }).strict();
  assert.throws(() => parseSpec(strict, 'service: a\nprot: 1\nmounts:\n  - from: /a\n    too: /b\n', 's.yaml'), (e: unknown) => {
    assert.ok(e instanceof SourceSyntaxErrors);
    assert.deepEqual(
      e.errors.map((x) => `${String(x.line)}:${String(x.column)} ${x.message}`),
      ["2:1 prot: unknown field; did you mean 'port'?", "5:5 mounts.0.too: unknown field; did you mean 'to'?"],
    );
    assert.match(e.format(), /\n2 errors$/);
    return true;
  });
  assert.throws(() => parseSpec(schema, 'service: [a\n', 's.yaml'), (e: unknown) => e instanceof SourceSyntaxError && e.code === 'MOAT_SPEC_YAML');
  assert.throws(() => parseSpec(schema, 'a: 1\na: 2\n', 's.yaml'), (e: unknown) => e instanceof SourceSyntaxError && e.line === 2);
  // Two bad values: both are shown, in the order of the file.
  assert.throws(() => parseSpec(schema, 'port: 0\nservice: A\n', 's.yaml'), (e: unknown) => {
    assert.ok(e instanceof SourceSyntaxErrors);
    assert.deepEqual(e.errors.map((x) => x.line), [1, 2]);
    return true;
  });
});

test('a missing spec file is a clear error', async () => {
  await assert.rejects(loadSpec(schema, '/nonexistent/spec.yaml'), { code: 'MOAT_SPEC_READ', exitCode: 66 });
});

test('atomic writes create files whole, refuse to leave the out dir, and replace planted symlinks rather than follow them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'moat-atomic-'));
  try {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'keep');
    await symlink(victim, join(dir, 'rc.conf'));
    await writeFilesAtomically(dir, [{ path: 'rc.conf', content: 'new\n' }, { path: 'etc/jail.conf', content: 'j\n', mode: 0o600 }]);
    assert.equal(await readFile(victim, 'utf8'), 'keep');
    assert.equal(await readFile(join(dir, 'rc.conf'), 'utf8'), 'new\n');
    assert.equal(await readFile(join(dir, 'etc', 'jail.conf'), 'utf8'), 'j\n');
    await assert.rejects(writeFilesAtomically(dir, [{ path: '../escape', content: 'x' }]), { code: 'MOAT_OUT_PATH' });
    await assert.rejects(writeFilesAtomically(dir, [{ path: '/etc/passwd', content: 'x' }]), { code: 'MOAT_OUT_PATH' });
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
