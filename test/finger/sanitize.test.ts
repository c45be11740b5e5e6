import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { neutralise, sanitizeText } from '../../src/finger/index.js';

describe('finger sanitising', () => {
  it('ends every line in CRLF and keeps TAB', () => {
    assert.equal(sanitizeText(Buffer.from('a\tb\nc\r\nd'), false), 'a\tb\r\nc\r\nd\r\n');
  });

  it('shows C0 controls and DEL in caret notation', () => {
    assert.equal(sanitizeText(Buffer.from('\x1b[2Jx\x07\x7f\r mid\n'), false), '^[[2Jx^G^?^M mid\r\n');
  });

  it('turns non-ASCII into ? unless UTF-8 is allowed, and never passes a C1 control', () => {
    const text = Buffer.from('caf\u00e9 \u009b2J \u2603\n', 'utf8');
    assert.equal(sanitizeText(text, false), 'caf?? ??2J ???\r\n');
    assert.equal(sanitizeText(text, true), 'caf\u00e9 \\u009b2J \u2603\r\n');
    assert.equal(sanitizeText(Buffer.from([0x61, 0xff, 0x0a]), true), 'a?\r\n');
  });

  it('neutralises log fields the same way', () => {
    assert.equal(neutralise('a\nb\0'), 'a^Jb^@');
  });
});
