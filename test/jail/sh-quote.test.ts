import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { shQuote, shWords } from '../../src/jail/index.js';
import { haveCommand, needs } from '../helpers/system.js';

const HOSTILE = [
  '', ' ', "'", "''", '"', '\\', '$(id)', '`id`', '${HOME}', '$HOME', '*', '?', '[a]', '~', '~root', 'a b', 'a\tb', 'a\nb',
  ';', '&&', '|', '>x', '<x', '#', '!', '{a,b}', 'x=y', '-', '--', "it's \"quoted\"", 'ünïcødé', '%s', '\\x41',
];

test('every word comes back from a real sh exactly as it went in', (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
  const words = [...HOSTILE, ascii];
  const r = spawnSync('sh', ['-c', `printf '%s\\0' ${shWords(words)}`], { encoding: 'utf8', cwd: '/', timeout: 10_000 });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), words);
});

test('plainly safe words stay bare, so scripts read as if written by hand', () => {
  assert.equal(shQuote('/srv/finger/bin/fingerd'), '/srv/finger/bin/fingerd');
  assert.equal(shQuote('-pidfile=/log/pids/fingerd.pid'), '-pidfile=/log/pids/fingerd.pid');
  assert.equal(shQuote('65534:65534'), '65534:65534');
  assert.equal(shQuote(''), "''");
  assert.equal(shQuote("it's"), "'it'\\''s'");
  assert.equal(shQuote('~'), "'~'");
});
