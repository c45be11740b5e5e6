// The generated shell scripts run for real under the system's sh, with
// rc.subr and the FreeBSD commands (jls, daemon, zfs, ...) replaced by stubs
// that record their arguments. This shows what each script would run, word
// for word, including with hostile arguments.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { renderSpecFile, type RenderedFile } from '../../src/jail/index.js';
import { fixture, haveCommand, needs, repoRoot } from '../helpers/system.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'moat-jail-sh-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Each stub appends one record per call: its name and arguments, NUL-separated, then a newline. */
const STUB = `#!/bin/sh
name=\${0##*/}
{ printf '%s' "$name"; for a in "$@"; do printf '\\0%s' "$a"; done; printf '\\n'; } >>"$STUB_LOG"
case $name in
jls)
	[ -n "\${JLS_FAIL:-}" ] && { echo "jls: jail \\"$2\\" not found" >&2; exit 1; }
	case $3 in path) echo "$JAIL_ROOT" ;; jid) echo 7 ;; esac ;;
install) [ -z "\${INSTALL_FAIL:-}" ] || exit 1 ;;
zfs) [ "$1" != list ] || exit 1 ;;
esac
exit 0
`;

/** rc.subr as far as these scripts use it; like the real one, it leaves JID at 0 (the host). */
const RC_SUBR = `JID=0
load_rc_config() { :; }
warn() { echo "warn: $*" >&2; }
run_rc_command() {
	printf 'JID=%s\\npidfile=%s\\ncommand=%s\\n' "$JID" "\${pidfile:-}" "$command" >"$STATE"
	case $1 in
	start) eval "$start_precmd" && eval "$start_cmd" ;;
	esac
}
`;

interface Run {
  status: number | null;
  stderr: string;
  calls: string[][];
  state: string;
}

async function sandbox(name: string) {
  const root = join(dir, name);
  const bin = join(root, 'bin');
  const jailRoot = join(root, 'jailroot');
  await mkdir(bin, { recursive: true });
  await mkdir(join(jailRoot, 'log'), { recursive: true });
  await mkdir(join(root, 'cwd'));
  for (const cmd of ['jls', 'daemon', 'chown', 'zfs', 'install', 'service', 'tail', 'mkdir']) {
    await writeFile(join(bin, cmd), STUB);
    await chmod(join(bin, cmd), 0o755);
  }
  await writeFile(join(root, 'rc.subr'), RC_SUBR);
  const run = async (file: RenderedFile, args: string[], env: Record<string, string> = {}): Promise<Run> => {
    const script = join(root, 'script');
    // Only the rc.subr line changes: everything else runs as rendered.
    await writeFile(script, file.content.replace('. /etc/rc.subr', `. ${join(root, 'rc.subr')}`));
    const log = join(root, 'calls');
    await writeFile(log, '');
    const state = join(root, 'state');
    await writeFile(state, '');
    const r = spawnSync('sh', [script, ...args], {
      cwd: join(root, 'cwd'),
      encoding: 'utf8',
      timeout: 10_000,
      env: { PATH: `${bin}:/usr/bin:/bin`, STUB_LOG: log, STATE: state, JAIL_ROOT: jailRoot, ...env },
    });
    const calls = (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').map((l) => l.split('\0'));
    return { status: r.status, stderr: r.stderr, calls, state: await readFile(state, 'utf8') };
  };
  return { root, jailRoot, run };
}

function file(files: RenderedFile[], path: string): RenderedFile {
  const f = files.find((x) => x.path === path);
  assert.ok(f, `no ${path}`);
  return f;
}

test('the rc.d script passes hostile arguments to the daemon as data, word for word', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const { files } = await renderSpecFile(fixture('jail', 'hostile-args.yaml'), ['freebsd']);
  const box = await sandbox('hostile');
  const r = await box.run(file(files, 'freebsd/rc.d/hostile'), ['start']);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const daemon = r.calls.find((c) => c[0] === 'daemon');
  assert.deepEqual(daemon, [
    'daemon', '-c', 'jexec', 'hostile', '/srv/hostile/bin/daemon',
    '$(touch PWNED)', '`touch PWNED`', "it's; touch PWNED", 'say "hi" \\ there', '*', '%n %% $HOME ${HOME} $$', ';', '', '-x=7979',
  ]);
  // The stubs log every command; nothing else ran, and nothing was created.
  assert.deepEqual(r.calls.map((c) => c[0]), ['jls', 'jls', 'daemon']);
  assert.deepEqual(await readdir(join(box.root, 'cwd')), []);
  // The daemon's output goes to the log directory as the host sees it.
  assert.deepEqual((await readdir(join(box.jailRoot, 'log'))).sort(), ['stderr', 'stdout']);
});

test('JID is set to the jail after rc.subr is sourced, so status and stop find the daemon', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const { files } = await renderSpecFile(join(repoRoot, 'examples', 'jail', 'finger.yaml'), ['freebsd']);
  const box = await sandbox('jid');
  const r = await box.run(file(files, 'freebsd/rc.d/fingerd'), ['status']);
  assert.equal(r.status, 0);
  assert.equal(r.state, `JID=7\npidfile=${box.jailRoot}/log/pids/fingerd.pid\ncommand=/srv/finger/bin/fingerd\n`);
  assert.deepEqual(r.calls, [['jls', '-j', 'finger', 'path'], ['jls', '-j', 'finger', 'jid']]);
});

test('variant 1 starts as root and hands the daemon its uid:gid', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const { files } = await renderSpecFile(join(repoRoot, 'examples', 'jail', 'finger.yaml'), ['freebsd']);
  const box = await sandbox('v1');
  const r = await box.run(file(files, 'freebsd/rc.d/fingerd'), ['start']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls.slice(2), [
    ['mkdir', '-p', '-m', '0755', `${box.jailRoot}/log/pids`],
    ['chown', '65534:65534', `${box.jailRoot}/log/pids`],
    ['daemon', '-c', 'jexec', 'finger', '/srv/finger/bin/fingerd', '-run-as-user', '65534:65534', '-pidfile=/log/pids/fingerd.pid'],
  ]);
});

test('variant 2 runs the daemon as a host user with jexec -u on the unprivileged port', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const { files } = await renderSpecFile(join(repoRoot, 'examples', 'jail', 'finger-1079.yaml'), ['freebsd']);
  const box = await sandbox('v2');
  const r = await box.run(file(files, 'freebsd/rc.d/fingerd'), ['start']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls.slice(2), [
    ['mkdir', '-p', '-m', '0755', `${box.jailRoot}/log/pids`],
    ['chown', 'nobody', `${box.jailRoot}/log/pids`],
    ['daemon', '-c', 'jexec', '-u', 'nobody', 'finger', '/srv/finger/bin/fingerd', '-listen', ':1079', '-pidfile=/log/pids/fingerd.pid'],
  ]);
});

test('start refuses when the jail is not running, and status finds nothing in no jail', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const { files } = await renderSpecFile(join(repoRoot, 'examples', 'jail', 'finger.yaml'), ['freebsd']);
  const box = await sandbox('down');
  const r = await box.run(file(files, 'freebsd/rc.d/fingerd'), ['start'], { JLS_FAIL: '1' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /warn: jail finger is not running/);
  assert.ok(!r.calls.some((c) => c[0] === 'daemon'));
  assert.match(r.state, /^JID=-1\n/);
});

test('zfs-setup.sh creates the datasets, fills the jail, then makes it read-only', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const { files } = await renderSpecFile(join(repoRoot, 'examples', 'jail', 'finger.yaml'), ['freebsd']);
  const box = await sandbox('setup');
  const r = await box.run(file(files, 'freebsd/zfs-setup.sh'), []);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.calls.map((c) => c.join(' '));
  const at = (s: string): number => {
    const i = lines.indexOf(s);
    assert.notEqual(i, -1, `not run: ${s}\n${lines.join('\n')}`);
    return i;
  };
  const create = at('zfs create -o setuid=off -o utf8only=on -o atime=off -o devices=off zroot/jails/finger');
  const parent = at('zfs create -o mountpoint=/jails zroot/jails');
  const bin = at('mkdir -m 0755 /jails/finger/srv/finger/bin');
  const install = at('install -m 0555 /home/build/fingerd/fingerd /jails/finger/srv/finger/bin/fingerd');
  const readonly = at('zfs set readonly=on zroot/jails/finger');
  const logs = at('zfs create -o mountpoint=none -o exec=off -o devices=off -o setuid=off -o atime=off -o utf8only=on zroot/logs');
  const log = at('zfs create -o mountpoint=/jails/finger/log zroot/logs/finger');
  assert.ok(parent < create && create < bin && bin < install && install < readonly && readonly < logs && logs < log);
  assert.ok(at('mkdir -m 0755 /jails/finger/log') < readonly);
});

test('update.sh puts readonly=on back even when the install fails', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const { files } = await renderSpecFile(join(repoRoot, 'examples', 'jail', 'finger.yaml'), ['freebsd']);
  const box = await sandbox('update');
  const ok = await box.run(file(files, 'freebsd/update.sh'), []);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(ok.calls.map((c) => c.join(' ')), [
    'zfs set readonly=off zroot/jails/finger',
    'install -v -m 0555 /home/build/fingerd/fingerd /jails/finger/srv/finger/bin/fingerd',
    'install -v -m 0444 /usr/local/etc/finger.conf /jails/finger/etc/finger.conf',
    'zfs set readonly=on zroot/jails/finger',
    'service fingerd restart',
    'service fingerd status',
    'tail -n 20 /jails/finger/log/stderr',
  ]);
  const failed = await box.run(file(files, 'freebsd/update.sh'), [], { INSTALL_FAIL: '1' });
  assert.notEqual(failed.status, 0);
  assert.deepEqual(failed.calls.map((c) => c.join(' ')), [
    'zfs set readonly=off zroot/jails/finger',
    'install -v -m 0555 /home/build/fingerd/fingerd /jails/finger/srv/finger/bin/fingerd',
    'zfs set readonly=on zroot/jails/finger',
  ]);
});

test('every generated script is valid sh, for every example and for hostile arguments', async (t) => {
  if (!needs(t, { sh: haveCommand('sh') })) return;
  const specs = [
    ...['finger.yaml', 'finger-1079.yaml', 'moat-finger.yaml'].map((f) => join(repoRoot, 'examples', 'jail', f)),
    fixture('jail', 'hostile-args.yaml'),
    fixture('jail', 'minimal.yaml'),
  ];
  let checked = 0;
  for (const spec of specs) {
    const { files } = await renderSpecFile(spec, ['freebsd']);
    for (const f of files.filter((x) => x.content.startsWith('#!/bin/sh'))) {
      const r = spawnSync('sh', ['-n'], { input: f.content, encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.stderr, '', `${spec}: ${f.path}`);
      assert.equal(r.status, 0, `${spec}: ${f.path}`);
      checked++;
    }
  }
  assert.equal(checked, specs.length * 3);
});
