import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceSyntaxError } from '../../src/core/index.js';
import { parseSpec } from '../../src/core/spec-loader.js';
import { jailSpecSchema } from '../../src/jail/index.js';

const BASE = [
  'service: fingerd',
  'binary: /srv/finger/bin/fingerd',
  'install: /usr/local/libexec/fingerd',
  'runAs: "65534:65534"',
  'address: 192.0.2.1',
  'port: 79',
].join('\n');

/** Parse BASE with extra lines (or replaced lines), expecting an error; returns it. */
function specError(text: string): SourceSyntaxError {
  try {
    parseSpec(jailSpecSchema, text, 'spec.yaml');
  } catch (e) {
    assert.ok(e instanceof SourceSyntaxError, `not a SourceSyntaxError: ${String(e)}`);
    return e;
  }
  assert.fail(`spec was accepted:\n${text}`);
}

test('a minimal spec fills in the defaults', () => {
  const spec = parseSpec(jailSpecSchema, BASE, 'spec.yaml');
  assert.equal(spec.zfs.pool, 'zroot');
  assert.equal(spec.zfs.mountpoint, '/jails');
  assert.equal(spec.logDir, '/log');
  assert.equal(spec.linux.user, 'dynamic');
  assert.deepEqual(spec.args, []);
});

test('an error names the field with its line and column', () => {
  const e = specError(BASE.replace('port: 79', 'port: 70000'));
  assert.equal(e.line, 6);
  assert.equal(e.column, 7);
  assert.match(e.message, /^port: /);
  const nested = specError(`${BASE}\nmounts:\n  - from: /home\n    to: home\n`);
  assert.equal(nested.line, 9);
  assert.equal(nested.column, 9);
  assert.match(nested.format(), /^spec\.yaml:9:9: mounts\.0\.to: must be an absolute path/);
  const unknown = specError(`${BASE}\nprot: 80\n`);
  assert.equal(unknown.format().split('\n')[0], "spec.yaml:7:1: prot: unknown field; did you mean 'port'?");
});

test('a misspelt key is an unknown key at its own line with the closest known key, and every error is shown', () => {
  const e = specError(`${BASE.replace(/^address:/m, 'adress:')}\nprot: 80\n`);
  const text = e.format();
  assert.match(text, /^spec\.yaml:\d+:1: adress: unknown field; did you mean 'address'\?$/m);
  assert.match(text, /^spec\.yaml:\d+:1: prot: unknown field; did you mean 'port'\?$/m);
  assert.match(text, /^2 errors$/m);
});

test('names that reach scripts and config files are strict', () => {
  const cases: [string, string, RegExp][] = [
    ['service: fingerd', 'service: "finger-d"', /^service: /],
    ['service: fingerd', 'service: "f$(reboot)"', /^service: /],
    ['binary: /srv/finger/bin/fingerd', 'binary: "/srv/finger/bin/finger d"', /^binary: /],
    ['binary: /srv/finger/bin/fingerd', 'binary: "/srv/$(touch x)/fingerd"', /^binary: /],
    ['binary: /srv/finger/bin/fingerd', 'binary: "/srv/../bin/sh"', /^binary: .*\.\./],
    ['binary: /srv/finger/bin/fingerd', 'binary: "/srv/\'q\'/fingerd"', /^binary: /],
    ['address: 192.0.2.1', 'address: "192.0.2.1; touch x"', /^address: /],
    ['address: 192.0.2.1', 'address: 192.0.2.256', /^address: /],
    ['address: 192.0.2.1', 'address: "fe80::1%em0"', /^address: .*zone/],
    ['runAs: "65534:65534"', 'runAs: "0:0"', /^runAs: .*root/],
    ['runAs: "65534:65534"', 'runAs: "nobody;id"', /^runAs: /],
  ];
  for (const [from, to, want] of cases) {
    assert.match(specError(BASE.replace(from, to)).message, want, to);
  }
  assert.match(specError(`${BASE}\njail: "finger\\nx"\n`).message, /^jail: /);
  assert.match(specError(`${BASE}\njail: "1234"\n`).message, /^jail: /);
  assert.match(specError(`${BASE}\nzfs:\n  pool: mirror\n`).message, /^zfs\.pool: .*reserved/);
  assert.match(specError(`${BASE}\nlinux:\n  ipAllow: [10.0.0.0/33]\n`).message, /^linux\.ipAllow\.0: /);
  assert.match(specError(`${BASE}\nmounts:\n  - from: /home\n    to: /srv\n`).message, /^mounts\.0\.to: .*cover the binary/);
  assert.match(specError(`${BASE}\nmounts:\n  - from: /home\n    to: /log/home\n`).message, /^mounts\.0\.to: /);
  assert.equal(parseSpec(jailSpecSchema, `${BASE}\nlinux:\n  ipAllow: [192.0.2.0/24, "2001:db8::/32", localhost]\n`, 'spec.yaml').linux.ipAllow.length, 3);
  assert.match(specError(`${BASE}\nzfs:\n  jails: "jails/x y"\n`).message, /^zfs\.jails: /);
  assert.match(specError(`${BASE}\nredirect:\n  port: 1079\n  publicAddress: 192.0.2.3\n  interfaces: ["bce1;"]\n`).format(), /^spec\.yaml:\d+:\d+: redirect\.interfaces\.0: /m);
});

test('free text refuses newlines and other control characters', () => {
  assert.match(specError(`${BASE}\nargs: ["a\\nb"]\n`).message, /^args\.0: .*control/);
  assert.match(specError(`${BASE}\ndescription: "x\\ty"\n`).message, /^description: .*control/);
  // Quotes, $() and friends are fine in arguments: they are quoted when written.
  const spec = parseSpec(jailSpecSchema, `${BASE}\nargs: ["$(id)", "it's", "\\"q\\""]\n`, 'spec.yaml');
  assert.deepEqual(spec.args, ['$(id)', "it's", '"q"']);
});

test('the two variants want the identity jexec or the daemon can use', () => {
  assert.match(specError(BASE.replace('runAs: "65534:65534"', 'runAs: nobody')).message, /^runAs: .*no passwd/);
  const redirect = '\nredirect:\n  port: 1079\n  publicAddress: 192.0.2.3\n  interfaces: [bce1, lo0]\n';
  assert.match(specError(`${BASE}${redirect}`).message, /^runAs: .*jexec -u/);
  const ok = parseSpec(jailSpecSchema, `${BASE.replace('runAs: "65534:65534"', 'runAs: nobody')}${redirect}`, 'spec.yaml');
  assert.equal(ok.redirect?.port, 1079);
  assert.match(specError(`${BASE.replace('runAs: "65534:65534"', 'runAs: nobody')}${redirect.replace('1079', '79')}`).message, /^redirect\.port: .*1024/);
});

test('placeholders are checked against what each list may use', () => {
  assert.match(specError(`${BASE}\nargs: ["{prot}"]\n`).message, /^args\.0: \{prot\} is not known/);
  assert.match(specError(`${BASE}\nargs: ["{uid}"]\n`).message, /^args\.0: \{uid\} is not known/);
  assert.match(specError(`${BASE}\nargs: ["a{b"]\n`).message, /^args\.0: has a lone '\{'/);
  assert.match(specError(`${BASE}\nfreebsd:\n  args: ["-pidfile={pidfile}"]\n`).message, /^freebsd\.args\.0: \{pidfile\}/);
  assert.match(specError(`${BASE}\nlinux:\n  args: ["{uid}"]\n`).message, /^linux\.args\.0: /);
  const ok = parseSpec(jailSpecSchema, `${BASE}\npidfile: /log/p.pid\nfreebsd:\n  args: ["-u={uid}:{gid}", "-p={pidfile}", "{{x}}"]\n`, 'spec.yaml');
  assert.equal(ok.freebsd.args.length, 3);
  assert.match(specError(`${BASE}\npidfile: /run/p.pid\n`).message, /^pidfile: .*under logDir/);
});
