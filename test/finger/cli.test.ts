import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../../src/core/index.js';
import { TOOLS } from '../../bin/tools.js';
import { captureIo } from '../helpers/io.js';

const dir = mkdtempSync(join(tmpdir(), 'moat-finger-cli-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
const cli = (args: string[]) => {
  const io = captureIo({ cwd: dir });
  return runCli(['finger', ...args], io, { version: '0', tools: TOOLS }).then((code) => ({ code, out: io.out(), err: io.err() }));
};

describe('moat finger command line', () => {
  it('--help fits on one screen', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    assert.ok(r.out.split('\n').length - 1 <= 24, `${String(r.out.split('\n').length)} lines`);
    assert.match(r.out, /^usage: moat finger/);
  });

  it('an unknown option is one line and exit 64', async () => {
    const r = await cli(['--frobnicate']);
    assert.equal(r.code, 64);
    assert.equal(r.err, "moat finger: unknown option '--frobnicate'; try 'moat finger --help'\n");
  });

  it('a bad config file is file:line:col with a caret, exit 65', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'homes: /h\nmax-line: lots\n');
    const r = await cli(['--config', 'bad.yaml']);
    assert.equal(r.code, 65);
    assert.match(r.err, /bad\.yaml:2:11: max-line: .*\nmax-line: lots\n {10}\^{4}\n$/);
  });

  it('a bad finger.conf is reported with its line, exit 65', async () => {
    writeFileSync(join(dir, 'finger.conf'), 'good:alice\nbad line\n');
    const r = await cli(['--check', '--homes', dir, '--aliases', 'finger.conf']);
    assert.equal(r.code, 65);
    assert.match(r.err, /finger\.conf:2:1: expected 'alias:target'/);
  });

  it('a bad listen or syslog address is a usage error, exit 64', async () => {
    const r = await cli(['--check', '--homes', dir, '--listen', 'localhost']);
    assert.equal(r.code, 64);
    assert.match(r.err, /bad listen address 'localhost'/);
    const s = await cli(['--check', '--homes', dir, '--log-syslog', 'http://x']);
    assert.equal(s.code, 64);
    assert.match(s.err, /bad syslog address/);
  });

  it('a missing homes directory is exit 66', async () => {
    const r = await cli(['--check', '--homes', join(dir, 'nope')]);
    assert.equal(r.code, 66);
    assert.match(r.err, /homes directory .* is not a directory/);
  });

  it('--check loads everything and says what would be served', async () => {
    writeFileSync(join(dir, 'ok.conf'), 'a:alice\n');
    const r = await cli(['--check', '--homes', dir, '--aliases', 'ok.conf', '--forward-allow', 'example.org']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^aliases: 1 from /m);
    assert.match(r.out, /^forwarding: example\.org$/m);
    assert.match(r.out, /^user listing: refused$/m);
    // -n is the BSD spelling of the same check, and fails the same way.
    const n = await cli(['-n', '--homes', dir, '--aliases', 'ok.conf', '--forward-allow', 'example.org']);
    assert.equal(n.code, 0);
    assert.equal(n.out, r.out);
    const bad = await cli(['-n', '--homes', join(dir, 'nope')]);
    assert.notEqual(bad.code, 0);
  });
});
