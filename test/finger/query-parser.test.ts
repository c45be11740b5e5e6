import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nameProblem, parseQuery, validHostname } from '../../src/finger/index.js';

describe('finger query parser (RFC 1288 §2.3)', () => {
  it('reads what the Debian finger client sends', () => {
    // The line terminator is cut by the server; a CR may remain from CRLF.
    assert.deepEqual(parseQuery('\r'), { kind: 'list', long: false });
    assert.deepEqual(parseQuery('/W \r'), { kind: 'list', long: true });
    assert.deepEqual(parseQuery('alice\r'), { kind: 'user', long: false, names: ['alice'] });
    assert.deepEqual(parseQuery('/W alice\r'), { kind: 'user', long: true, names: ['alice'] });
    assert.deepEqual(parseQuery('alice@example.org\r'), { kind: 'forward', long: false, user: 'alice', hosts: ['example.org'] });
  });

  it('accepts a bare LF line, /w, extra spaces and several names, folding case', () => {
    assert.deepEqual(parseQuery('  /w   Alice   BOB '), { kind: 'user', long: true, names: ['alice', 'bob'] });
    assert.deepEqual(parseQuery('/W'), { kind: 'list', long: true });
    assert.deepEqual(parseQuery('@Host.Example'), { kind: 'forward', long: false, user: '', hosts: ['host.example'] });
    assert.deepEqual(parseQuery('/W u@a@b'), { kind: 'forward', long: true, user: 'u', hosts: ['a', 'b'] });
  });

  it('does not take /Walice as the /W token', () => {
    assert.equal(parseQuery('/Walice').kind, 'bad');
  });

  it('refuses names with NUL, slashes, backslashes or ..', () => {
    for (const bad of ['a\0b', '../etc', 'a/b', 'a\\b', 'x..y', '.plan', '-l', 'caf\u00e9', 'a\x1bb']) {
      assert.equal(parseQuery(bad).kind, 'bad', JSON.stringify(bad));
      assert.notEqual(nameProblem(bad), undefined);
    }
    assert.equal(parseQuery('a'.repeat(65)).kind, 'bad');
    assert.equal(parseQuery(Array.from({ length: 9 }, (_, i) => `u${String(i)}`).join(' ')).kind, 'bad');
  });

  it('refuses a forwarding target that is not a host name, or more than one target', () => {
    assert.equal(parseQuery('u@bad_host!').kind, 'bad');
    assert.equal(parseQuery('u@a v@b').kind, 'bad');
    assert.equal(parseQuery('../x@host').kind, 'bad');
    assert.ok(validHostname('[::1]'));
    assert.ok(validHostname('127.0.0.1'));
    assert.ok(!validHostname(''));
  });
});
