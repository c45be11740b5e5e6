// The Linux forms, for real: a guest netns with the failover IP as /32 and a
// gateway netns in another subnet, joined by veth. Each form is applied and
// the guest must reach the gateway and a host behind it; the wrong order
// must fail as the kernel says, and the lint must flag it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { fixture, haveCommand, haveNetns, needs, repoRoot } from '../helpers/system.js';
import { ifupdownToIp, ipIn, ipLines, makeLab, networkdToIp, ping, run, type Lab } from './netns-lib.js';

const spec = fixture('net', 'specs', 'linux-guest.yaml');
let work = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'moat-net-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function render(target: string): Promise<string> {
  const out = join(work, target);
  const io = captureIo();
  assert.equal(await main(['render', spec, '--os', target, '--out', out], io), 0, io.err());
  return out;
}

function applyAndPing(lab: Lab, commands: string[][]): void {
  for (const argv of commands) {
    const r = ipIn(lab.guest, argv);
    assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  }
  assert.ok(ping(lab.guest, lab.gatewayIp), 'guest pings its gateway in another subnet');
  assert.ok(ping(lab.guest, lab.behindIp), 'guest pings a host behind the gateway');
}

function withLab(body: (lab: Lab) => void): void {
  const lab = makeLab('198.51.100.10');
  try {
    body(lab);
  } finally {
    lab.destroy();
  }
}

test('linux-ip: the rendered script brings the failover IP up', async (t) => {
  if (!needs(t, { 'root with ip netns': haveNetns(), ping: haveCommand('ping') })) return;
  const out = await render('linux-ip');
  const script = await readFile(join(out, 'lnx/usr/local/sbin/moat-net-eth0.sh'), 'utf8');
  const cmds = ipLines(script);
  assert.equal(cmds.length, 4);
  withLab((lab) => {
    applyAndPing(lab, cmds);
  });
});

test('linux-ip: the default route before the host route fails as the kernel says, and check flags it', async (t) => {
  if (!needs(t, { 'root with ip netns': haveNetns() })) return;
  const out = await render('linux-ip');
  const cmds = ipLines(await readFile(join(out, 'lnx/usr/local/sbin/moat-net-eth0.sh'), 'utf8'));
  // Swap the host route and the default route: the order the lint rule flags.
  const wrong = [cmds[0]!, cmds[1]!, cmds[3]!, cmds[2]!];
  withLab((lab) => {
    for (const argv of wrong.slice(0, 2)) assert.equal(ipIn(lab.guest, argv).status, 0);
    const r = ipIn(lab.guest, wrong[2]!);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Nexthop has invalid gateway/);
    t.diagnostic(`kernel: ${r.stderr.trim()}`);
  });
  const bad = join(work, 'wrong-order.sh');
  await writeFile(bad, `${wrong.map((a) => a.join(' ')).join('\n')}\n`);
  const io = captureIo();
  assert.equal(await main(['check', '--os', 'linux-ip', bad], io), 1);
  assert.match(io.out(), /wrong-order\.sh:3: route-order:/);
});

test('linux-networkd: GatewayOnLink=yes, applied as networkd would, reaches the gateway', async (t) => {
  if (!needs(t, { 'root with ip netns': haveNetns(), ping: haveCommand('ping') })) return;
  const out = await render('linux-networkd');
  const text = await readFile(join(out, 'lnx/etc/systemd/network/10-moat-eth0.network'), 'utf8');
  assert.match(text, /^GatewayOnLink=yes$/m);
  withLab((lab) => {
    applyAndPing(lab, networkdToIp(text));
  });
});

test('linux-ifupdown: the pointopoint form, applied as ifupdown would, reaches the gateway', async (t) => {
  if (!needs(t, { 'root with ip netns': haveNetns(), ping: haveCommand('ping') })) return;
  const out = await render('linux-ifupdown');
  const text = await readFile(join(out, 'lnx/etc/network/interfaces.d/eth0'), 'utf8');
  assert.match(text, /^\tpointopoint 192\.0\.2\.1$/m);
  withLab((lab) => {
    applyAndPing(lab, ifupdownToIp(text));
  });
});

test('linux-ifupdown: ifup --no-act prints the commands; run in the guest, they reach the gateway', async (t) => {
  if (!needs(t, { 'root with ip netns': haveNetns(), 'ifup (Debian ifupdown)': haveCommand('ifup') })) return;
  const out = await render('linux-ifupdown');
  const state = join(work, 'ifupdown-state');
  await mkdir(state, { recursive: true });
  const r = run(['ifup', '--no-act', '--interfaces', join(out, 'lnx/etc/network/interfaces.d/eth0'), '--state-dir', state, 'eth0']);
  assert.equal(r.status, 0, r.stderr);
  // ifupdown prints what it would run, one command a line: keep the ip(8) ones.
  const cmds = (r.stdout + r.stderr).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('ip ')).map((l) => l.split(/\s+/));
  assert.ok(cmds.some((c) => c.includes('peer') && c.includes('192.0.2.1')), 'the pointopoint peer is the gateway');
  withLab((lab) => {
    applyAndPing(lab, cmds);
  });
});

test('linux-netplan: netplan generate accepts the sit tunnel too', async (t) => {
  if (!needs(t, { 'netplan (Debian netplan.io)': haveCommand('netplan') })) return;
  const out = join(work, 'netplan-tunnel');
  const io = captureIo();
  assert.equal(await main(['render', join(repoRoot, 'examples/net/seed-guests.yaml'), '--os', 'linux-netplan', '--guest', 'fbsd', '--out', out], io), 0, io.err());
  const root = join(work, 'netplan-tunnel-root');
  await mkdir(join(root, 'etc/netplan'), { recursive: true });
  await writeFile(join(root, 'etc/netplan/60-moat.yaml'), await readFile(join(out, 'fbsd/etc/netplan/60-moat-vtnet0.yaml'), 'utf8'), { mode: 0o600 });
  const gen = run(['netplan', 'generate', '--root-dir', root]);
  assert.equal(gen.status, 0, gen.stderr);
  const netdev = await readFile(join(root, 'run/systemd/network/10-netplan-he-ipv6.netdev'), 'utf8');
  assert.match(netdev, /^Kind=sit$/m);
  assert.match(netdev, /^Remote=203\.0\.113\.254$/m);
  t.diagnostic('this kernel has no sit driver, so the tunnel itself is not brought up here');
});

test('linux-netplan: netplan generate accepts the file; its networkd output reaches the gateway', async (t) => {
  if (!needs(t, { 'root with ip netns': haveNetns(), 'netplan (Debian netplan.io)': haveCommand('netplan') })) return;
  const out = await render('linux-netplan');
  const root = join(work, 'netplan-root');
  await mkdir(join(root, 'etc/netplan'), { recursive: true });
  const yaml = await readFile(join(out, 'lnx/etc/netplan/60-moat-eth0.yaml'), 'utf8');
  assert.match(yaml, /on-link: true/);
  await writeFile(join(root, 'etc/netplan/60-moat-eth0.yaml'), yaml, { mode: 0o600 });
  const gen = run(['netplan', 'generate', '--root-dir', root]);
  assert.equal(gen.status, 0, gen.stderr);
  const dir = join(root, 'run/systemd/network');
  const name = (await readdir(dir)).find((f) => f.endsWith('eth0.network'));
  assert.ok(name !== undefined, 'netplan wrote a .network for eth0');
  const networkd = await readFile(join(dir, name), 'utf8');
  assert.match(networkd, /GatewayOnLink=true/);
  withLab((lab) => {
    applyAndPing(lab, networkdToIp(networkd));
  });
  // The validator does reject a broken file, so its approval above means something.
  await writeFile(join(root, 'etc/netplan/60-moat-eth0.yaml'), yaml.replace(/^(\s+)on-link: true$/m, '$1on-lonk: true'), { mode: 0o600 });
  assert.notEqual(run(['netplan', 'generate', '--root-dir', root]).status, 0);
});
