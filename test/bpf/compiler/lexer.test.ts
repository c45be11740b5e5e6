// tokenize (lexer.ts): words that are MAC addresses, and those that only
// start like one, scanned as libpcap's scanner.l scans them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../../../src/bpf/compiler/lexer.js';

describe('tokenize: MAC addresses and what only starts like one', () => {
  const kinds = (src: string): string[] => tokenize(src).slice(0, -1).map((t) => `${t.kind}:${t.text}`);

  it('takes each form of a MAC address as one token, the shortest (eleven characters) too', () => {
    // (All digits, `0011.2233.4455` and `001122334455` are a prefix and a number: those rules come first.)
    assert.deepEqual(kinds('00:11:22:33:44:55 0-1-2-3-4-5 a.b.c.d.e.f a011.2233.4455 a01122334455 0011:2233:4455 1:2:3:4:5:6'), [
      'EID:00:11:22:33:44:55', 'EID:0-1-2-3-4-5', 'EID:a.b.c.d.e.f', 'EID:a011.2233.4455', 'EID:a01122334455', 'EID:0011:2233:4455', 'EID:1:2:3:4:5:6',
    ]);
  });

  it('leaves shorter runs of hex digits and separators to the other rules', () => {
    assert.deepEqual(kinds('10.0.0.1 1-1023 1:2:3:4:5 ab.cd'), [
      'HID:10.0.0.1', 'ID:1-1023', 'NUM:1', 'OP::', 'NUM:2', 'OP::', 'NUM:3', 'OP::', 'NUM:4', 'OP::', 'NUM:5', 'ID:ab.cd',
    ]);
  });
});

describe('tokenize: numbers next to what could extend them', () => {
  const kinds = (src: string): string[] => tokenize(src).slice(0, -1).map((t) => `${t.kind}:${t.text}:${String(t.value)}`);

  it('takes a 0x number before an operator or the end, and an id where a letter past f follows', () => {
    assert.deepEqual(kinds('ip[6:2] & 0x1fff != 0x0'), [
      'KW:IP:0', 'OP:[:0', 'NUM:6:6', 'OP:::0', 'NUM:2:2', 'OP:]:0', 'OP:&:0', 'NUM:0x1fff:8191', 'OP:NEQ:0', 'NUM:0x0:0',
    ]);
    // scanner.l: the id is the longer match (a bare `0x`: two characters against the number `0`).
    assert.deepEqual(kinds('0x1fffg 0x'), ['ID:0x1fffg:0', 'ID:0x:0']);
  });

  it('takes digits before one colon as a number, and two colons as an IPv6 address', () => {
    assert.deepEqual(kinds('udp[8:4] 1::2 fe80::1'), [
      'KW:UDP:0', 'OP:[:0', 'NUM:8:8', 'OP:::0', 'NUM:4:4', 'OP:]:0', 'HID6:1::2:0', 'HID6:fe80::1:0',
    ]);
  });
});
