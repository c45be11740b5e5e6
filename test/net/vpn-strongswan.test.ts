// The Linux VPN head-end for real: the rendered swanctl.conf loaded into a
// strongSwan charon in one netns, a road-warrior charon in another, IKEv1
// main mode and quick mode negotiated between them over a veth pair.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { main } from '../../src/net/index.js';
import { captureIo } from '../helpers/io.js';
import { haveCommand, haveNetns, needs, repoRoot } from '../helpers/system.js';
import { mustRun, netnsName, run } from './netns-lib.js';

const CHARON = '/usr/lib/ipsec/charon';
const SERVER = '192.0.2.10';
const CLIENT = '192.0.2.20';

function strongswanConf(dir: string): string {
  return `charon {
  load_modular = no
  load = random nonce aes sha1 sha2 hmac gmp kernel-netlink socket-default vici
  install_routes = no
  plugins {
    vici {
      socket = unix://${dir}/charon.vici
    }
  }
  filelog {
    main {
      path = ${dir}/charon.log
      default = 1
      ike = 2
    }
  }
}
swanctl {
  load = random pem pkcs1 x509 pubkey
}
`;
}

const CLIENT_CONF = `connections {
  l2tp {
    version = 1
    local_addrs = ${CLIENT}
    remote_addrs = ${SERVER}
    proposals = aes256-sha256-modp2048
    local {
      auth = psk
    }
    remote {
      auth = psk
      id = ${SERVER}
    }
    children {
      l2tp {
        mode = transport
        local_ts = dynamic[udp/l2tp]
        remote_ts = dynamic[udp/l2tp]
        esp_proposals = aes256-sha256
      }
    }
  }
}
secrets {
  ike-server {
    secret = "password"
  }
}
`;

function swanctl(dir: string, args: string[]): { status: number; out: string } {
  const r = run(['env', `STRONGSWAN_CONF=${dir}/strongswan.conf`, 'swanctl', ...args, '--uri', `unix://${dir}/charon.vici`], 30_000);
  return { status: r.status, out: r.stdout + r.stderr };
}

async function startCharon(ns: string, dir: string): Promise<ChildProcess> {
  await mkdir(join(dir, 'run'), { recursive: true });
  // charon insists on /run/charon.pid: each instance gets its own /run through bwrap.
  const child = spawn('ip', ['netns', 'exec', ns, 'bwrap', '--die-with-parent', '--dev-bind', '/', '/', '--bind', join(dir, 'run'), '/run', '--', CHARON], {
    env: { ...process.env, STRONGSWAN_CONF: join(dir, 'strongswan.conf') },
    stdio: 'ignore',
    shell: false,
  });
  for (let i = 0; i < 100 && !existsSync(join(dir, 'charon.vici')); i++) await sleep(100);
  assert.ok(existsSync(join(dir, 'charon.vici')), 'charon opened its vici socket');
  return child;
}

test('VPN: IKEv1 main mode and quick mode complete against the rendered swanctl.conf', async (t) => {
  if (!needs(t, { 'root with ip netns': haveNetns(), 'strongSwan charon': haveCommand(CHARON), swanctl: haveCommand('swanctl'), bwrap: haveCommand('bwrap') })) return;
  const work = await mkdtemp(join(tmpdir(), 'moat-net-vpn-'));
  const server = netnsName();
  const client = netnsName();
  const children: ChildProcess[] = [];
  try {
    // The seed's spec, with the head-end on a documentation address.
    const seed = await readFile(join(repoRoot, 'examples/net/seed-vpn.yaml'), 'utf8');
    const specFile = join(work, 'vpn.yaml');
    await writeFile(specFile, seed.replace(/listen: 1\.2\.3\.4/, `listen: ${SERVER}`));
    const io = captureIo();
    assert.equal(await main(['render', specFile, '--os', 'linux-ip', '--out', join(work, 'out')], io), 0, io.err());
    const rendered = await readFile(join(work, 'out/vpn/etc/swanctl/conf.d/moat-l2tp.conf'), 'utf8');
    assert.match(rendered, /version = 1/);
    assert.match(rendered, /mode = transport/);

    mustRun(['ip', 'netns', 'add', server]);
    mustRun(['ip', 'netns', 'add', client]);
    mustRun(['ip', 'link', 'add', 'vpn0', 'netns', server, 'type', 'veth', 'peer', 'name', 'vpn0', 'netns', client]);
    mustRun(['ip', '-n', server, 'addr', 'add', `${SERVER}/24`, 'dev', 'vpn0']);
    mustRun(['ip', '-n', client, 'addr', 'add', `${CLIENT}/24`, 'dev', 'vpn0']);
    for (const ns of [server, client]) {
      mustRun(['ip', '-n', ns, 'link', 'set', 'vpn0', 'up']);
      mustRun(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const sdir = join(work, 's');
    const cdir = join(work, 'c');
    for (const [dir, conf] of [[sdir, rendered], [cdir, CLIENT_CONF]] as const) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'strongswan.conf'), strongswanConf(dir));
      await writeFile(join(dir, 'swanctl.conf'), conf, { mode: 0o600 });
    }
    children.push(await startCharon(server, sdir));
    children.push(await startCharon(client, cdir));
    for (const dir of [sdir, cdir]) {
      const load = swanctl(dir, ['--load-all', '--file', join(dir, 'swanctl.conf')]);
      assert.match(load.out, /successfully loaded 1 connections/, load.out);
    }
    const init = swanctl(cdir, ['--initiate', '--child', 'l2tp', '--timeout', '15']);
    // Main mode: ID_PROT exchanges, then the IKE SA.
    assert.match(init.out, /IKE_SA l2tp\[\d+\] established between 192\.0\.2\.20\[192\.0\.2\.20\]\.\.\.192\.0\.2\.10\[192\.0\.2\.10\]/, init.out);
    // Quick mode: the responder answered and an ESP proposal was chosen.
    assert.match(init.out, /parsed QUICK_MODE response/, init.out);
    assert.match(init.out, /selected proposal: ESP:AES_CBC_256\/HMAC_SHA2_256_128/, init.out);
    const sas = swanctl(sdir, ['--list-sas']);
    assert.match(sas.out, /ESTABLISHED, IKEv1/, sas.out);
    if (init.out.includes('unable to install inbound and outbound IPsec SA')) {
      t.diagnostic('this kernel has no ESP (netlink: Protocol not supported): the IPsec SAs were negotiated but cannot be installed, so the L2TP data path is out of reach here');
    } else {
      t.diagnostic('the kernel installed the ESP transport-mode SAs');
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sleep(200);
    run(['ip', 'netns', 'del', server]);
    run(['ip', 'netns', 'del', client]);
    await rm(work, { recursive: true, force: true });
  }
});
