import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkConfigText } from '../../src/ifstated/config.js';
import { main } from '../../src/ifstated/cli.js';
import { dotToSvg, toDot } from '../../src/ifstated/graph.js';
import { captureIo } from '../helpers/io.js';
import { haveCommand, needs, repoRoot } from '../helpers/system.js';

const src = 'init-state b\nstate a {\n init set-state b\n if e0.link.down && "ping x" every 5\n  set-state b\n}\nstate b {\n if e0.link.up\n  set-state a\n}\n';

test('DOT: states, the initial one doubled, labelled edges, init edges dashed', () => {
  const dot = toDot(checkConfigText(src, { file: 'g.conf', interfaceExists: () => true }).config);
  assert.match(dot, /^digraph ifstated \{/);
  assert.match(dot, /"b" \[peripheries=2\];/);
  assert.match(dot, /"a" -> "b" \[label="init", style=dashed\];/);
  assert.match(dot, /"a" -> "b" \[label="e0\.link\.down && \\"ping x\\" every 5"\];/);
  assert.match(dot, /"b" -> "a" \[label="e0\.link\.up"\];/);
});

test('the seed graph shows the state with the syntax error, and an undeclared target, in red', async () => {
  const io = captureIo();
  assert.equal(await main(['graph', '-f', join(repoRoot, 'examples', 'ifstated', 'ifstated.conf')], io), 0);
  assert.match(io.out(), /"alldown" \[color=red, fontcolor=red, label="alldown\\n\(syntax error\)"\];/);
  assert.doesNotMatch(io.out(), /undeclared/);
  const typo = toDot(checkConfigText('state a {\n if e0.link.up\n  set-state bb\n}\nstate b {\n if e0.link.down\n  set-state a\n}\n', { file: 't.conf', interfaceExists: () => true }).config);
  assert.match(typo, /"bb" \[color=red, fontcolor=red, label="bb\\n\(undeclared\)"\];/);
});

test('SVG through dot(1)', async (t) => {
  if (!needs(t, { 'dot (graphviz)': haveCommand('dot') })) return;
  const svg = await dotToSvg(toDot(checkConfigText(src, { file: 'g.conf', interfaceExists: () => true }).config));
  assert.match(svg ?? '', /<svg[\s\S]*<\/svg>/);
});

test('graph -o takes an absolute path, and --out is its long name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-graph-'));
  try {
    const conf = join(repoRoot, 'examples', 'ifstated', 'ifstated.conf');
    const abs = join(dir, 'abs.dot');
    const io = captureIo();
    assert.equal(await main(['graph', '-f', conf, '-o', abs], io), 0, io.err());
    assert.match(readFileSync(abs, 'utf8'), /^digraph ifstated \{/);
    // A relative name is relative to the command's working directory.
    const rel = captureIo({ cwd: dir });
    assert.equal(await main(['graph', '-f', conf, '--out', 'rel.dot'], rel), 0, rel.err());
    assert.equal(readFileSync(join(dir, 'rel.dot'), 'utf8'), readFileSync(abs, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('graph --output, the old long name, still writes the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-ifs-graph-old-'));
  try {
    const io = captureIo({ cwd: dir });
    assert.equal(await main(['graph', '-f', join(repoRoot, 'examples', 'ifstated', 'ifstated.conf'), '--output', 'old.dot'], io), 0, io.err());
    assert.match(readFileSync(join(dir, 'old.dot'), 'utf8'), /^digraph ifstated \{/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
