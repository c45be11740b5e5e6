import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SourceSyntaxError, UsageError } from '../../src/core/index.js';
import { parseTomlConfig } from '../../src/finger/config-file.js';
import { DEFAULTS, normaliseLegacyFlags, parseListenAddress, settingsFromArgv, inheritedFds } from '../../src/finger/index.js';

const dir = mkdtempSync(join(tmpdir(), 'moat-finger-config-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('finger settings', () => {
  it('uses the RFC defaults: port 79 on both families, limits as documented', async () => {
    const { settings } = await settingsFromArgv([], { cwd: dir });
    assert.deepEqual(settings, DEFAULTS);
    assert.deepEqual(settings.listen, ['0.0.0.0:79', '[::]:79']);
    assert.equal(settings.readTimeout, 10);
    assert.equal(settings.writeTimeout, 30);
    assert.equal(settings.maxLine, 512);
  });

  it('reads TOML and YAML the same way, paths relative to the file, and flags win', async () => {
    writeFileSync(join(dir, 'f.toml'), 'listen = ["127.0.0.1:7979"]\nhomes = "h"\nmax-per-ip = 3\nlist-users = true\n');
    writeFileSync(join(dir, 'f.yaml'), 'listen: ["127.0.0.1:7979"]\nhomes: h\nmax-per-ip: 3\nlist-users: true\n');
    const t = (await settingsFromArgv(['--config', join(dir, 'f.toml'), '--max-per-ip', '5'], { cwd: '/' })).settings;
    const y = (await settingsFromArgv(['--config', join(dir, 'f.yaml'), '--max-per-ip', '5'], { cwd: '/' })).settings;
    assert.deepEqual(t, y);
    assert.equal(t.homes, join(dir, 'h'));
    assert.equal(t.maxPerIp, 5);
    assert.equal(t.listUsers, true);
    assert.deepEqual(t.listen, ['127.0.0.1:7979']);
  });

  it('points at the bad key of a TOML file', () => {
    assert.throws(
      () => parseTomlConfig('homes = "/h"\n max-lines = 3\n', 'f.toml'),
      (e: unknown) => e instanceof SourceSyntaxError && e.format() === "f.toml:2:2: max-lines: unknown field; did you mean 'max-line'?\n max-lines = 3\n ^^^^^^^^^",
    );
    assert.throws(() => parseTomlConfig('read-timeout = "ten"\n', 'f.toml'), (e: unknown) => e instanceof SourceSyntaxError && e.line === 1 && e.message.includes('read-timeout'));
    assert.throws(() => parseTomlConfig('homes = [\n', 'f.toml'), (e: unknown) => e instanceof SourceSyntaxError && e.code === 'MOAT_FINGER_CONFIG_TOML');
  });

  it('refuses bad numbers and unknown flags as usage errors', async () => {
    await assert.rejects(settingsFromArgv(['--max-line', '5'], { cwd: dir }), UsageError);
    await assert.rejects(settingsFromArgv(['--read-timeout', 'x'], { cwd: dir }), UsageError);
    await assert.rejects(settingsFromArgv(['--bogus'], { cwd: dir }), UsageError);
    await assert.rejects(settingsFromArgv(['--log-format', 'xml'], { cwd: dir }), UsageError);
    await assert.rejects(settingsFromArgv(['--log-level', 'loud'], { cwd: dir }), UsageError);
    await assert.rejects(settingsFromArgv(['--log-tag', 'has space'], { cwd: dir }), UsageError);
  });

  it("accepts the Go fingerd flags of the seed's rc.d", async () => {
    assert.deepEqual(normaliseLegacyFlags(['-run-as-user', '65534:65534', '-pidfile=/log/pids/fingerd.pid', '-log.syslog.address', '192.0.2.9:514', '-log.no-local', '--homes', 'h']), [
      '--run-as-user=65534:65534',
      '--pidfile=/log/pids/fingerd.pid',
      '--log-no-local',
      '--homes',
      'h',
      '--log-syslog=udp://192.0.2.9:514',
    ]);
    assert.deepEqual(normaliseLegacyFlags(['--log.syslog.address=/var/run/log']), ['--log-syslog=unix:///var/run/log']);
    const s = (await settingsFromArgv(['-run-as-user', '65534:65534', '-log.no-local'], { cwd: dir })).settings;
    assert.equal(s.runAsUser, '65534:65534');
    assert.equal(s.logNoLocal, true);
  });

  it('accepts every flag of Go fingerd v0.2.3, with its meaning', async () => {
    const env = { FINGER_ADDR: '127.0.0.1:7979' };
    const argv = [
      '-homes-dir', '/srv/homes',
      '-alias-file=/etc/finger.conf',
      '-listen', ':79',
      '-file.size-limit', '262144',
      '-passwd.min-uid', '1000',
      '-request.timeout.read', '1m30s',
      '-request.timeout.write=500ms',
      '-log.json',
      '-log.level', 'warn',
      '-log.syslog.address', '192.0.2.9:514',
      '-log.syslog.tag', 'fingerd',
      '--log.syslog.proto=tcp',
      '-log.no-local=true',
      '-run-as-user', '65534:65534',
      '-pidfile', '/log/pids/fingerd.pid',
    ];
    const s = (await settingsFromArgv(argv, { cwd: dir, env })).settings;
    assert.equal(s.homes, '/srv/homes');
    assert.equal(s.aliases, '/etc/finger.conf');
    // Go's ":79" is every address of both families.
    assert.deepEqual(s.listen, ['0.0.0.0:79', '[::]:79']);
    assert.equal(s.maxFileSize, 262144);
    assert.equal(s.minUid, 1000);
    // Go durations; ours are whole seconds, rounded up.
    assert.equal(s.readTimeout, 90);
    assert.equal(s.writeTimeout, 1);
    assert.equal(s.logFormat, 'json');
    assert.equal(s.logLevel, 'warning');
    // -log.syslog.proto applies wherever it stands.
    assert.equal(s.logSyslog, 'tcp://192.0.2.9:514');
    assert.equal(s.logTag, 'fingerd');
    assert.equal(s.logNoLocal, true);
    assert.equal(s.runAsUser, '65534:65534');
    assert.equal(s.pidfile, '/log/pids/fingerd.pid');
    // -listen-env names the variable that holds the address, and wins over -listen.
    assert.deepEqual((await settingsFromArgv(['-listen', ':79', '-listen-env', 'FINGER_ADDR'], { cwd: dir, env })).settings.listen, ['127.0.0.1:7979']);
    await assert.rejects(settingsFromArgv(['-listen-env', 'NOT_SET_HERE'], { cwd: dir, env }), /\$NOT_SET_HERE is not set/);
    await assert.rejects(settingsFromArgv(['-log.syslog.proto', 'sctp'], { cwd: dir }), /udp or tcp/);
    assert.equal((await settingsFromArgv(['-log.json=false', '-log.no-local=false'], { cwd: dir })).settings.logFormat, 'text');
    assert.equal((await settingsFromArgv(['-version'], { cwd: dir })).version, true);
  });

  it('names an unknown single-dash option whole', async () => {
    await assert.rejects(settingsFromArgv(['-homes', '/h'], { cwd: dir }), (e: unknown) => e instanceof UsageError && e.message === "moat finger: unknown option '-homes'");
    await assert.rejects(settingsFromArgv(['-homes-dirs=/h'], { cwd: dir }), (e: unknown) => e instanceof UsageError && e.message === "moat finger: unknown option '-homes-dirs=/h'");
    // A cluster of our short flags is still one.
    assert.equal((await settingsFromArgv(['-nh'], { cwd: dir })).help, true);
  });

  it('parses listen addresses of both families', () => {
    assert.deepEqual(parseListenAddress('[::1]:7979'), { host: '::1', port: 7979 });
    assert.deepEqual(parseListenAddress(':79'), { host: '0.0.0.0', port: 79 });
    assert.throws(() => parseListenAddress('127.0.0.1'), /host:port/);
    assert.throws(() => parseListenAddress('[1.2.3.4]:79'), /IPv6/);
    assert.throws(() => parseListenAddress('127.0.0.1:99999'), /range/);
  });

  it('takes inherited sockets only when LISTEN_PID is ours (sd_listen_fds(3))', () => {
    assert.deepEqual(inheritedFds({ LISTEN_PID: '42', LISTEN_FDS: '2' }, 42), [3, 4]);
    assert.deepEqual(inheritedFds({ LISTEN_PID: '43', LISTEN_FDS: '2' }, 42), []);
    assert.deepEqual(inheritedFds({}, 42), []);
  });
});
