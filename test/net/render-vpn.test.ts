// The VPN and jail-redirect renderings: the legacy-apple profile is written
// with a warning and flagged by check; a redirect on lo0 drops PF's
// "set skip on lo"; every VPN file passes the file rules unless flagged.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { fixture, repoRoot } from '../helpers/system.js';

const spec = fixture('net', 'specs', 'jails-vpn.yaml');
let work = '';
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'moat-net-vpn-render-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

test('OpenBSD head-end with legacy-apple: the weak proposals, a warning, and the lint fires', async () => {
  const out = join(work, 'o');
  const io = captureIo();
  assert.equal(await main(['render', spec, '--os', 'openbsd', '--out', out], io), 0);
  assert.match(io.err(), /^moat net render: warning: .*jails-vpn\.yaml:\d+: legacy-crypto: vpn\.crypto legacy-apple uses 3des/m);
  const ipsec = await readFile(join(out, 'vpn/etc/ipsec.conf'), 'utf8');
  assert.match(ipsec, /main auth "hmac-sha1" enc "3des" group modp1024 quick auth "hmac-sha1" enc "3des" psk "password"$/m);
  const npppd = await readFile(join(out, 'vpn/etc/npppd/npppd.conf'), 'utf8');
  assert.match(npppd, /^\tdns-servers 192\.0\.2\.53$/m);
  const chk = captureIo();
  assert.equal(await main(['check', '--os', 'openbsd', ...walk(out)], chk), 1);
  assert.deepEqual([...new Set(chk.out().trim().split('\n').map((l) => l.split(': ')[1]))], ['legacy-crypto']);
  const linux = join(work, 'l');
  assert.equal(await main(['render', spec, '--os', 'linux-networkd', '--out', linux], captureIo()), 0);
  const swan = await readFile(join(linux, 'vpn/etc/swanctl/conf.d/moat-l2tp.conf'), 'utf8');
  assert.match(swan, /proposals = 3des-sha1-modp1024/);
  assert.match(await readFile(join(linux, 'vpn/etc/ppp/options.xl2tpd'), 'utf8'), /^ms-dns 192\.0\.2\.53$/m);
});

test('a jail redirect on lo0: no "set skip on lo" in either pf.conf, and check is clean of skip-lo-redirect', async () => {
  for (const os of ['openbsd', 'freebsd']) {
    const out = join(work, `j-${os}`);
    assert.equal(await main(['render', spec, '--os', os, '--out', out], captureIo()), 0);
    const pf = walk(out).find((f) => /\/pf(\.[^/]+)?\.conf$/.test(f));
    assert.ok(pf !== undefined, os);
    const text = await readFile(pf, 'utf8');
    assert.doesNotMatch(text, /^set skip/m);
    assert.match(text, os === 'openbsd' ? /^pass in on lo0 proto tcp to 192\.0\.2\.3 port 79 rdr-to 10\.0\.0\.79 port 7979$/m : /^rdr pass on lo0 proto tcp from any to 192\.0\.2\.3 port 79 -> 10\.0\.0\.79 port 7979$/m);
    const chk = captureIo();
    await main(['check', '--os', os, pf], chk);
    assert.doesNotMatch(chk.out(), /skip-lo-redirect/);
  }
});

test('the seed VPN without pipex: check SPEC flags it, and the rendered files fail the file rule too', async () => {
  const out = join(work, 'np');
  const specText = (await readFile(spec, 'utf8')).replace('crypto: legacy-apple', 'crypto: modern\n  pipex: false');
  const file = join(work, 'nopipex.yaml');
  await writeFile(file, specText);
  const io = captureIo();
  assert.equal(await main(['check', file], io), 1);
  assert.match(io.out(), /nopipex\.yaml:\d+: pipex-disabled: /);
  assert.equal(await main(['render', file, '--os', 'openbsd', '--out', out], captureIo()), 0);
  const chk = captureIo();
  assert.equal(await main(['check', '--os', 'openbsd', ...walk(out)], chk), 1);
  assert.match(chk.out(), /npppd\.conf:\d+: pipex-disabled: /);
});

test('OpenBSD head-end: PF rules as an anchor that keeps the existing ruleset (and ssh), with a warning', async () => {
  const vpnSpec = join(repoRoot, 'examples/net/seed-vpn.yaml');
  const out = join(work, 'anchor');
  const io = captureIo();
  assert.equal(await main(['render', vpnSpec, '--os', 'openbsd', '--out', out], io), 0, io.err());
  // No ruleset of our own: pfctl -f of one on a remote server cuts its administrator off.
  assert.deepEqual(walk(out).filter((f) => f.endsWith('/pf.conf')), []);
  const anchor = await readFile(join(out, 'vpn/etc/pf.moat-vpn.conf'), 'utf8');
  const rules = anchor.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(rules.length > 0);
  // Only passes: nothing that blocks, no options (set skip, set block-policy) that reach past the anchor.
  for (const r of rules) assert.match(r, /^pass\b/, r);
  // The lines to add to pf.conf and the command to load the anchor, in the file and in the warning.
  for (const text of [anchor, io.err()]) {
    assert.ok(text.includes('anchor "moat-vpn"'), text);
    assert.ok(text.includes('load anchor "moat-vpn" from "/etc/pf.moat-vpn.conf"'), text);
    assert.ok(text.includes('pfctl -a moat-vpn -f /etc/pf.moat-vpn.conf'), text);
  }
  assert.match(io.err(), /^moat net render: warning: vpn\/etc\/pf\.moat-vpn\.conf is a PF anchor, not a ruleset/m);
  // check knows the anchor file by its name and lints it as pf.conf.
  const chk = captureIo();
  assert.equal(await main(['check', '--os', 'openbsd', join(out, 'vpn/etc/pf.moat-vpn.conf')], chk), 0, chk.out() + chk.err());
  const leaky = join(work, 'pf.leaky.conf');
  await writeFile(leaky, `${anchor}pass in on egress proto udp to port 1701\n`);
  assert.equal(await main(['check', '--os', 'openbsd', leaky], captureIo()), 1);
});
