// parseIPv6 (ipv6-text.ts): the text forms of RFC 4291 §2.2, and what is not
// one. The code generator parses every IPv6 host and net with it, and the
// lexer every IPv6-shaped word without `::`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIPv6 } from '../../../src/bpf/compiler/ipv6-text.js';

/** The 16 bytes of eight 16-bit words. */
const bytes = (...words: number[]): number[] => words.flatMap((w) => [w >> 8, w & 0xff]);

describe('parseIPv6', () => {
  it('reads the preferred form, eight groups of one to four hex digits in either case', () => {
    assert.deepEqual(parseIPv6('1:2:3:4:5:6:7:8'), bytes(1, 2, 3, 4, 5, 6, 7, 8));
    assert.deepEqual(parseIPv6('ABCD:ef01:2345:6789:aBcD:EF01:0:ffff'), bytes(0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0, 0xffff));
  });

  it('fills `::` with zero groups, wherever it stands (RFC 4291 §2.2 form 2)', () => {
    assert.deepEqual(parseIPv6('::'), bytes(0, 0, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(parseIPv6('::1'), bytes(0, 0, 0, 0, 0, 0, 0, 1));
    assert.deepEqual(parseIPv6('fe80::'), bytes(0xfe80, 0, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(parseIPv6('2001:db8::8:800:200c:417a'), bytes(0x2001, 0xdb8, 0, 0, 0x8, 0x800, 0x200c, 0x417a));
    assert.deepEqual(parseIPv6('1:2:3::5:6:7:8'), bytes(1, 2, 3, 0, 5, 6, 7, 8));
  });

  it('reads a trailing dotted quad as the last two groups (form 3)', () => {
    assert.deepEqual(parseIPv6('::ffff:192.0.2.1'), bytes(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201));
    assert.deepEqual(parseIPv6('1:2:3:4:5:6:10.0.0.255'), bytes(1, 2, 3, 4, 5, 6, 0x0a00, 0x00ff));
  });

  it('refuses what is not an address', () => {
    for (const text of [
      '', '1.2.3.4', ':', '1:2', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1::2::3', '1:::2',
      ':1::2', '1::2:', ':1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:', '1:2:3:4::5:6:7:8', '::1.2.3', '::1.2.3.256', '::1.2.3.4.5',
      '1.2::3', '::1:2:3:4:5:6:7:8',
    ]) {
      assert.equal(parseIPv6(text), null, text);
    }
  });
});
