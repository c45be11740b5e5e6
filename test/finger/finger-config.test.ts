import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SourceSyntaxError, UsageError } from '../../src/core/index.js';
import { DEFAULTS, normaliseLegacyFlags, parseListenAddress, parseTomlConfig, settingsFromArgv, inheritedFds } from '../../src/finger/index.js';

const dir = mkdtempSync(join(tmpdir(), 'moat-finger-config-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('finger settings', () => {
  it('uses the RFC defaults: port 79 on both families, limits as documented', () => {
    const { settings } = settingsFromArgv([], { cwd: dir });
    assert.deepEqual(settings, DEFAULTS);
    assert.deepEqual(settings.listen, ['0.0.0.0:79', '[::]:79']);
    assert.equal(settings.readTimeout, 10);
    assert.equal(settings.writeTimeout, 30);
    assert.equal(settings.maxLine, 512);
  });

  it('reads TOML and YAML the same way, paths relative to the file, and flags win', () => {
    writeFileSync(join(dir, 'f.toml'), 'listen = ["127.0.0.1:7979"]\nhomes = "h"\nmax-per-ip = 3\nlist-users = true\n');
    writeFileSync(join(dir, 'f.yaml'), 'listen: ["127.0.0.1:7979"]\nhomes: h\nmax-per-ip: 3\nlist-users: true\n');
    const t = settingsFromArgv(['--config', join(dir, 'f.toml'), '--max-per-ip', '5'], { cwd: '/' }).settings;
    const y = settingsFromArgv(['--config', join(dir, 'f.yaml'), '--max-per-ip', '5'], { cwd: '/' }).settings;
    assert.deepEqual(t, y);
    assert.equal(t.homes, join(dir, 'h'));
    assert.equal(t.maxPerIp, 5);
    assert.equal(t.listUsers, true);
    assert.deepEqual(t.listen, ['127.0.0.1:7979']);
  });

  it('points at the bad key of a TOML file', () => {
    assert.throws(
      () => parseTomlConfig('homes = "/h"\n max-lines = 3\n', 'f.toml'),
      (e: unknown) => e instanceof SourceSyntaxError && e.format() === 'f.toml:2:2: max-lines: unknown field\n max-lines = 3\n ^^^^^^^^^',
    );
    assert.throws(() => parseTomlConfig('read-timeout = "ten"\n', 'f.toml'), (e: unknown) => e instanceof SourceSyntaxError && e.line === 1 && e.message.includes('read-timeout'));
    assert.throws(() => parseTomlConfig('homes = [\n', 'f.toml'), (e: unknown) => e instanceof SourceSyntaxError && e.code === 'MOAT_FINGER_CONFIG_TOML');
  });

  it('refuses bad numbers and unknown flags as usage errors', () => {
    assert.throws(() => settingsFromArgv(['--max-line', '5'], { cwd: dir }), UsageError);
    assert.throws(() => settingsFromArgv(['--read-timeout', 'x'], { cwd: dir }), UsageError);
    assert.throws(() => settingsFromArgv(['--bogus'], { cwd: dir }), UsageError);
    assert.throws(() => settingsFromArgv(['--log-format', 'xml'], { cwd: dir }), UsageError);
  });

  it("accepts the Go fingerd flags of the seed's rc.d", () => {
    assert.deepEqual(normaliseLegacyFlags(['-run-as-user', '65534:65534', '-pidfile=/log/pids/fingerd.pid', '-log.syslog.address', '192.0.2.9:514', '-log.no-local', '--homes', 'h']), [
      '--run-as-user',
      '65534:65534',
      '--pidfile=/log/pids/fingerd.pid',
      '--log-syslog=udp://192.0.2.9:514',
      '--log-no-local',
      '--homes',
      'h',
    ]);
    assert.deepEqual(normaliseLegacyFlags(['--log.syslog.address=/var/run/log']), ['--log-syslog=unix:///var/run/log']);
    const s = settingsFromArgv(['-run-as-user', '65534:65534', '-log.no-local'], { cwd: dir }).settings;
    assert.equal(s.runAsUser, '65534:65534');
    assert.equal(s.logNoLocal, true);
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
