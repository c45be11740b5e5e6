import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemdCommandLine, systemdQuote } from '../../src/jail/index.js';

// systemd.service(5) COMMAND LINES and systemd.unit(5) SPECIFIERS.
test('specifiers and variables are doubled, so systemd expands neither', () => {
  assert.equal(systemdQuote('%n'), '"%%n"');
  assert.equal(systemdQuote('$HOME'), '"$$HOME"');
  assert.equal(systemdQuote('${HOME}'), '"$${HOME}"');
  assert.equal(systemdQuote('100%'), '"100%%"');
});

test('quotes and backslashes are escaped inside double quotes; spaces and ; stay one word', () => {
  assert.equal(systemdQuote('say "hi"'), '"say \\"hi\\""');
  assert.equal(systemdQuote('a\\b'), '"a\\\\b"');
  assert.equal(systemdQuote(';'), '";"');
  assert.equal(systemdQuote(''), '""');
  assert.equal(systemdQuote("it's"), '"it\'s"');
});

test('plain words stay bare', () => {
  assert.equal(systemdCommandLine(['/srv/finger/bin/fingerd', '-listen', '192.0.2.1:79']), '/srv/finger/bin/fingerd -listen 192.0.2.1:79');
});
