// WordTable (word-table.ts): the lexer's keywords and named numbers, found
// by their characters where they stand in the expression, and the tokens
// the lexer makes of them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../../../src/bpf/compiler/lexer.js';
import { WordTable, type KnownWord } from '../../../src/bpf/compiler/word-table.js';

const kw = (spelling: string, text: string): KnownWord => ({ spelling, kind: 'KW', text, value: 0 });

describe('WordTable', () => {
  it('finds a spelling at its place in a longer text, and only the whole of it', () => {
    const t = new WordTable([kw('tcp', 'TCP'), kw('port', 'PORT'), kw('portrange', 'PORTRANGE')]);
    const src = 'tcp portrange 1-2 or port 80';
    assert.equal(t.find(src, 0, 3)?.text, 'TCP');
    assert.equal(t.find(src, 4, 13)?.text, 'PORTRANGE');
    assert.equal(t.find(src, 4, 8)?.text, 'PORT', 'a prefix that is itself a spelling');
    assert.equal(t.find(src, 21, 25)?.text, 'PORT');
    assert.equal(t.find(src, 0, 2), null, 'a prefix that is none');
    assert.equal(t.find(src, 14, 17), null);
  });

  it('matches case exactly, as scanner.l does', () => {
    const t = new WordTable([kw('ip', 'IP')]);
    assert.equal(t.find('IP', 0, 2), null);
    assert.equal(t.find('Ip', 0, 2), null);
    assert.equal(t.find('ip', 0, 2)?.text, 'IP');
  });

  it('tells apart many spellings of the same length that share slots', () => {
    // More words than the smallest table has slots: probing must go past other words.
    const words = Array.from({ length: 40 }, (_, i) => kw(`w${String(i).padStart(2, '0')}`, `W${String(i)}`));
    const t = new WordTable(words);
    for (const [i, w] of words.entries()) assert.equal(t.find(`x ${w.spelling} y`, 2, 5)?.text, `W${String(i)}`);
    assert.equal(t.find('w40', 0, 3), null);
  });
});

describe('tokenize: words', () => {
  const kinds = (src: string): string[] => tokenize(src).map((t) => `${t.kind}:${t.text}${t.kind === 'NUM' ? `=${String(t.value)}` : ''}`);

  it('makes keywords, named numbers and names of words', () => {
    assert.deepEqual(kinds('ether src tcp-syn icmp-echo tcpx tcp6 ip6'), [
      'KW:LINK', 'KW:SRC', 'NUM:tcp-syn=2', 'NUM:icmp-echo=8', 'ID:tcpx', 'ID:tcp6', 'KW:IPV6', 'EOF:',
    ]);
  });

  it('leaves a word that is not all a keyword a name, and an inherited property name too', () => {
    assert.deepEqual(kinds('hosts TCP constructor toString'), ['ID:hosts', 'ID:TCP', 'ID:constructor', 'ID:toString', 'EOF:']);
  });

  it('takes a hex-looking word as a keyword where it is one, and as a MAC address where it is longer', () => {
    assert.deepEqual(kinds('dst and decnet abcdefabcdef'), ['KW:DST', 'KW:AND', 'KW:DECNET', 'EID:abcdefabcdef', 'EOF:']);
  });
});
