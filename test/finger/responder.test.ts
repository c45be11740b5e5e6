import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BAD_QUERY, FileCache, FORWARD_DENIED, LIST_DENIED, Responder, UserDirectory } from '../../src/finger/index.js';
import { makeHomes } from './finger-fixture.js';

const homes = makeHomes(false);
after(() => {
  homes.cleanup();
});
const directory = new UserDirectory({ homes: homes.dir, passwd: new Map(), showName: false, aliases: new Map(), cache: new FileCache({ maxFileSize: 1000, utf8: false }) });
const responder = (maxAnswer = 100000, forwardAllow: string[] = []): Responder =>
  new Responder(directory, { listUsers: false, maxAnswer, forwardAllow, forward: { timeoutMs: 1000, maxBytes: 1000, utf8: false } });

describe('finger responder', () => {
  it('answers several names in turn, separated by a blank line', () => {
    const r = responder().answer('alice bob\r');
    assert.ok(!(r instanceof Promise));
    assert.match(r.text, /^Login: alice\r\n[\s\S]*\r\n\r\nLogin: bob\r\n/);
    assert.equal(r.outcome, 'found,found');
  });

  it('stops adding names once the answer is over its bound', () => {
    const r = responder(10).answer('alice bob alice');
    assert.ok(!(r instanceof Promise));
    assert.equal(r.outcome, 'found');
  });

  it('refuses listing, unlisted forwarding and bad queries with fixed lines', () => {
    const texts = ['', 'a@elsewhere', 'a@h1@h2', 'a/b'].map((q) => {
      const r = responder(100000, ['h1', 'h2']).answer(q);
      assert.ok(!(r instanceof Promise));
      return r.text;
    });
    assert.deepEqual(texts, [LIST_DENIED, FORWARD_DENIED, FORWARD_DENIED, BAD_QUERY]);
  });
});
