// Seed 001 is the specification: rendering examples/jail/finger.yaml (and
// its port-1079 variant) must reproduce the seed's own command and config
// lines in substance. The seed text is parsed here, not copied into the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderSpecFile, type RenderedFile } from '../../src/jail/index.js';
import { haveCommand, needs, repoRoot, sharedDir } from '../helpers/system.js';

const seedsDir = join(sharedDir, 'seeds');
const seedName = readdirSync(seedsDir).find((f) => f.startsWith('001_'));
assert.ok(seedName, `no seed 001 in ${seedsDir}`);
const seedText = readFileSync(join(seedsDir, seedName), 'utf8');

/**
 * The seed's lines, with backslash continuations joined. The JID override is
 * quoted inside a sentence ("Thus our JID=$(jls -j ${jail_name} jid) line"),
 * so it is lifted out as a line of its own.
 */
function seedLines(): string[] {
  const lines = seedText.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim());
  return [...lines, ...[...seedText.matchAll(/JID=\$\([^)]*\)/g)].map((m) => m[0])];
}

/** Lines that are commands or configuration, as opposed to prose. Manual edits (vi), the build user's cd/git and shell variables are not rendered. */
const COMMAND = /^(zfs |mkdir |cp |install |mount \/|service |chmod |less |go build|JID=|rdr|local_startup=|extra_netfs_types=|fingerd_enable=|# \/jails\/)/;

/** The jail.conf block's own lines, comments left out. */
function jailConfLines(lines: string[]): string[] {
  const start = lines.indexOf('finger {');
  const end = lines.indexOf('}', start);
  assert.ok(start >= 0 && end > start, 'no jail.conf block in the seed');
  return lines.slice(start, end + 1).filter((l) => !l.startsWith('#'));
}

/**
 * The known ways the rendering words a seed line differently, each with why:
 * the output is generated, so it installs rather than copies, names the
 * build output instead of $builddir, and prefixes the PF macro with the
 * service so that several services can share one pf.conf.
 */
const SYNONYMS: [RegExp, string][] = [
  [/^cp /, 'install '], // install(1) sets the mode, cp does not
  [/^chmod 755 /, 'install 0755 '], // the rc.d script is installed with its mode
  [/\$builddir\/fingerd/, '/path/to/compiled/fingerd'], // the spec's install path
  [/\.\.\.\/go\.pennock\.tech\/fingerd\/examples\/freebsd-rc\.d/, 'rc.d/fingerd'], // the rendered script
  [/\$?rdr_ifs/g, 'RDR_IFS'],
  [/^less /, 'tail '], // update.sh shows the end of the log rather than paging it
];

function tokens(line: string): string[] {
  return line
    .replace(/^# /, '')
    .replace(/ 2>\/dev\/null/g, '')
    .replace(/\$\{(\w+)\}/g, '$$$1')
    .replace(/["']/g, '')
    .replace(/\$?\w*_rdr_ifs/g, 'RDR_IFS')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== '-p' && w !== '-v' && w !== '-m')
    .map((w) => w.replace(/\/\.\/$/, '/'));
}

/** Does some rendered line hold every token of the seed line (a token ending in / matching any path below it)? */
function rendered(seedLine: string, corpus: string[][]): boolean {
  let line = seedLine;
  for (const [from, to] of SYNONYMS) line = line.replace(from, to);
  const want = tokens(line);
  return corpus.some((have) => want.every((w) => have.some((h) => h === w || (w.endsWith('/') && h.startsWith(w)))));
}

/**
 * The examples hold working paths where the seed has placeholders, and say
 * the seed's words in comments. To compare with the seed line by line, they
 * are rendered with the seed's own placeholders put back, read from the seed:
 * the rc.d directory of its local_startup line and the binary it copies.
 */
function seedValue(re: RegExp): string {
  const m = re.exec(seedText);
  assert.ok(m?.[1] !== undefined, `the seed has no line matching ${String(re)}`);
  return m[1];
}
const seedRcDir = seedValue(/^local_startup="(\S+) \$local_startup"$/m);
const seedInstall = seedValue(/^cp (\S+) \/jails\/\S+\/bin\//m);

async function renderExample(name: string): Promise<RenderedFile[]> {
  const example = readFileSync(join(repoRoot, 'examples', 'jail', name), 'utf8');
  const withSeedValues = example.replace(/^(\s*rcDir:) .*$/m, `$1 ${seedRcDir}`).replace(/^install: .*$/m, `install: ${seedInstall}`);
  assert.notEqual(withSeedValues, example);
  const dir = mkdtempSync(join(tmpdir(), 'moat-jail-seed-'));
  try {
    writeFileSync(join(dir, name), withSeedValues);
    const { files, warnings } = await renderSpecFile(join(dir, name));
    // The placeholders are reported, and rendering goes on.
    assert.equal(warnings.length, 2, warnings.join('\n'));
    return files;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("rendering the finger examples reproduces seed 001's own lines", async () => {
  const files = [...(await renderExample('finger.yaml')), ...(await renderExample('finger-1079.yaml'))];
  const corpus = files.flatMap((f) => f.content.split('\n')).map((l) => tokens(l.trim()));
  const lines = seedLines();
  const wanted = [...lines.filter((l) => COMMAND.test(l)), ...jailConfLines(lines)];
  // The parse found the seed's deployment, not an empty list.
  assert.ok(wanted.length >= 35, `only ${String(wanted.length)} seed lines found`);
  const missing = wanted.filter((l) => !rendered(l, corpus));
  assert.deepEqual(missing, []);
});

test('each seed line lands in the file it belongs to', async () => {
  const v1 = await renderExample('finger.yaml');
  const v2 = await renderExample('finger-1079.yaml');
  const file = (files: RenderedFile[], path: string): string[][] => (files.find((f) => f.path === path)?.content ?? '').split('\n').map((l) => tokens(l.trim()));
  const lines = seedLines();
  const expect = (pattern: RegExp, files: RenderedFile[], path: string): void => {
    const picked = lines.filter((l) => pattern.test(l));
    assert.ok(picked.length > 0, `no seed line matches ${String(pattern)}`);
    for (const l of picked) assert.ok(rendered(l, file(files, path)), `${path} lacks: ${l}`);
  };
  expect(/^zfs create/, v1, 'freebsd/zfs-setup.sh');
  expect(/^mkdir /, v1, 'freebsd/zfs-setup.sh');
  expect(/^# \/jails\/.* nullfs /, v1, 'freebsd/fstab');
  expect(/^(local_startup|extra_netfs_types|fingerd_enable)=/, v1, 'freebsd/rc.conf');
  expect(/^JID=\$\(jls -j/, v1, 'freebsd/rc.d/fingerd');
  expect(/^JID=\$\(jls -j/, v2, 'freebsd/rc.d/fingerd');
  expect(/^rdr/, v2, 'freebsd/pf.conf');
  expect(/^zfs set readonly=off|^install -v|^service fingerd re/, v1, 'freebsd/update.sh');
  expect(/^go build/, v1, 'freebsd/UPDATE');
  for (const l of jailConfLines(lines)) assert.ok(rendered(l, file(v1, 'freebsd/jail.conf')), `jail.conf lacks: ${l}`);
  // The second variant's warning: PF must not skip lo0.
  assert.match(v2.find((f) => f.path === 'freebsd/pf.conf')?.content ?? '', /do NOT "set skip on lo0"/);
  assert.ok(!v1.some((f) => f.path === 'freebsd/pf.conf'));
});

test('the rc.d script sets JID only after rc.subr is sourced', async () => {
  for (const name of ['finger.yaml', 'finger-1079.yaml']) {
    const script = (await renderExample(name)).find((f) => f.path === 'freebsd/rc.d/fingerd')?.content ?? '';
    const sourced = script.indexOf('\n. /etc/rc.subr\n');
    const jid = script.indexOf('\nJID=$(jls -j "$jail_name" jid');
    const run = script.indexOf('\nrun_rc_command "$1"');
    assert.ok(sourced > 0 && sourced < jid && jid < run, name);
  }
});

test('the examples as shipped: no placeholders left, and the jail starts at boot', async (t) => {
  const examples = readdirSync(join(repoRoot, 'examples', 'jail')).filter((n) => n.endsWith('.yaml'));
  assert.ok(examples.length >= 3, examples.join(' '));
  for (const name of examples) {
    const { files, warnings, plan } = await renderSpecFile(join(repoRoot, 'examples', 'jail', name));
    assert.deepEqual(warnings, [], name);
    for (const f of files) assert.ok(!f.content.includes('/path/to/'), `${name}: ${f.path} names a placeholder`);
    const rcConf = files.find((f) => f.path === 'freebsd/rc.conf')?.content ?? '';
    // rc.conf is sh: read it as rc.subr's load_rc_config does, with a shell.
    if (!needs(t, { sh: haveCommand('sh') })) return;
    const script = `eval "$(cat)"; printf "%s|%s|%s" "$jail_enable" "$${plan.service}_enable" "\${local_startup-unset}"`;
    const r = spawnSync('sh', ['-c', script], { input: rcConf, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // /usr/local/etc/rc.d is rc(8)'s own: no local_startup line.
    assert.equal(r.stdout, 'YES|YES|unset', `${name}:\n${rcConf}`);
  }
});
