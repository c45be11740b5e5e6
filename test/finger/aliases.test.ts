import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceSyntaxError } from '../../src/core/index.js';
import { parseAliases, parsePasswd } from '../../src/finger/index.js';

describe('finger.conf aliases', () => {
  it('reads alias:target lines with comments, folding alias names', () => {
    const m = parseAliases('# comment\n\nWebmaster: alice # trailing\nmotd:/srv/finger/motd\n', 'finger.conf');
    assert.deepEqual(m.get('webmaster'), { kind: 'user', name: 'alice' });
    assert.deepEqual(m.get('motd'), { kind: 'file', path: '/srv/finger/motd' });
    assert.equal(m.size, 2);
  });

  it('reports a bad line with file:line:col and a caret', () => {
    assert.throws(
      () => parseAliases('ok:alice\n  no colon here\n', 'finger.conf'),
      (e: unknown) => e instanceof SourceSyntaxError && e.format() === "finger.conf:2:3: expected 'alias:target'\n  no colon here\n  ^^^^^^^^^^^^^",
    );
    assert.throws(() => parseAliases('x:../etc\n', 'f'), /bad alias target/);
    assert.throws(() => parseAliases('a/b:alice\n', 'f'), /bad alias name/);
    assert.throws(() => parseAliases('a:alice\na:bob\n', 'f'), /defined twice/);
  });
});

describe('finger passwd', () => {
  it('takes the first GECOS field as the full name and expands &', () => {
    const m = parsePasswd('# c\nbob:*:1002:1002:& the Builder,Room 1,,:/home/bob:/bin/sh\n', 'passwd');
    assert.deepEqual(m.get('bob'), { name: 'bob', uid: 1002, gid: 1002, fullName: 'Bob the Builder' });
  });

  it('reports a malformed line', () => {
    assert.throws(() => parsePasswd('bob:*:x:1:n:/h:/s\n', 'passwd'), (e: unknown) => e instanceof SourceSyntaxError && e.line === 1 && e.message.includes('whole numbers'));
    assert.throws(() => parsePasswd('short:line\n', 'passwd'), /7 colon-separated/);
  });
});
