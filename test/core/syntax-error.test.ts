import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineColumn, SourceSyntaxError } from '../../src/core/index.js';

test('format() prints file:line:col, the line and a caret under the column', () => {
  const src = 'state a {\n  set-state all working\n}\n';
  const e = SourceSyntaxError.at('syntax error', 'ifstated.conf', src, src.indexOf('working'), 7);
  assert.ok(e instanceof SyntaxError);
  assert.equal(e.line, 2);
  assert.equal(e.column, 17);
  assert.equal(e.format(), 'ifstated.conf:2:17: syntax error\n  set-state all working\n                ^^^^^^^');
});

test('lineColumn counts from 1 and clamps offsets past the end', () => {
  assert.deepEqual(lineColumn('ab\ncd', 0), { line: 1, column: 1 });
  assert.deepEqual(lineColumn('ab\ncd', 3), { line: 2, column: 1 });
  assert.deepEqual(lineColumn('ab\ncd', 99), { line: 2, column: 3 });
});

test('a caret at end of line still shows one caret; tabs become spaces so the caret lines up', () => {
  const e = SourceSyntaxError.at('unexpected end', '<expr>', '\tport', 5, 3);
  assert.equal(e.format(), '<expr>:1:6: unexpected end\n port\n     ^');
});
