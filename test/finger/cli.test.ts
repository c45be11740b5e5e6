import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TOOLS } from '../../bin/tools.js';
import { EX_OK, runCli } from '../../src/core/index.js';
import { DEFAULTS, SETTINGS, settingsFromArgv } from '../../src/finger/index.js';
import { captureIo } from '../helpers/io.js';
import { repoRoot } from '../helpers/system.js';

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
    for (const line of r.out.split('\n')) assert.ok(line.length <= 80, `too wide: ${line}`);
    assert.match(r.out, /^usage: moat finger/);
  });

  it('every setting is in --help, in moat-finger(8), and a config file key', async () => {
    const help = (await cli(['--help'])).out;
    const man = readFileSync(join(repoRoot, 'man', 'moat-finger.8'), 'utf8');
    const toml: string[] = [];
    for (const s of Object.values(SETTINGS)) {
      assert.match(help, new RegExp(`--${s.flag}(?![a-z-])`), `--${s.flag} missing from --help`);
      assert.match(man, new RegExp(`^\\.It .*Fl -${s.flag}(?![a-z-])`, 'm'), `--${s.flag} missing from moat-finger(8) OPTIONS`);
      // --jail and --chroot exclude each other: --jail is read alone below.
      if (s.flag !== 'jail') toml.push(`${s.flag} = ${JSON.stringify(s.default ?? (s.flag === 'log-syslog' ? 'udp://127.0.0.1:514' : '/x'))}`);
    }
    // A file that sets every key to its default (or a value for the unset
    // ones) is accepted and gives the defaults back.
    writeFileSync(join(dir, 'all.toml'), `${toml.join('\n')}\n`);
    const { settings } = await settingsFromArgv(['--config', 'all.toml'], { cwd: dir });
    for (const [k, v] of Object.entries(DEFAULTS)) if (v !== undefined) assert.deepEqual(settings[k as keyof typeof settings], v, k);
    writeFileSync(join(dir, 'jail.toml'), 'jail = "finger"\n');
    assert.equal((await settingsFromArgv(['--config', 'jail.toml'], { cwd: dir })).settings.jail, 'finger');
  });

  it('--version names moat', async () => {
    for (const flag of ['--version', '-version']) {
      const r = await cli([flag]);
      assert.equal(r.code, EX_OK);
      assert.match(r.out, /^moat finger \S+ \(node v\d+/);
    }
  });

  it('an unknown option is one line and exit 64, named whole', async () => {
    const r = await cli(['--frobnicate']);
    assert.equal(r.code, 64);
    assert.equal(r.err, "moat finger: unknown option '--frobnicate'; try 'moat finger --help'\n");
    const go = await cli(['-homes-dri', '/home']);
    assert.equal(go.code, 64);
    assert.equal(go.err, "moat finger: unknown option '-homes-dri'; try 'moat finger --help'\n");
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
    const r = await cli(['--check', '--homes', dir, '--aliases', 'ok.conf', '--forward-allow', 'example.org', '--allow-root']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^aliases: 1 from /m);
    assert.match(r.out, /^forwarding: example\.org$/m);
    assert.match(r.out, /^user listing: refused$/m);
    // -n is the BSD spelling of the same check, and fails the same way.
    const n = await cli(['-n', '--homes', dir, '--aliases', 'ok.conf', '--forward-allow', 'example.org', '--allow-root']);
    assert.equal(n.code, 0);
    assert.equal(n.out, r.out);
    const bad = await cli(['-n', '--homes', join(dir, 'nope')]);
    assert.notEqual(bad.code, 0);
  });
});
