// Acceptance 8: two gateways share one freeradius and its accounting; each
// session carries its own gateway's NAS-Identifier, and a Disconnect-Request
// reaches the gateway that holds the session.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freeradiusRequirements } from '../../helpers/freeradius.js';
import { LAB, nodeIn } from '../../helpers/portal-netns.js';
import { haveCommand, haveNetns, needs } from '../../helpers/system.js';
import { SECOND, SECRET, makeE2eLab, until, type E2eLab } from './portal-lab.js';

const requirements = {
  ...freeradiusRequirements(),
  'network namespaces (root, iproute2)': haveNetns(),
  'nft (apt-get install nftables)': haveCommand('nft'),
  'dnsmasq (apt-get install dnsmasq)': haveCommand('dnsmasq'),
  'conntrack (apt-get install conntrack)': haveCommand('conntrack'),
};

let a: E2eLab | undefined;
let b: E2eLab | undefined;

before(async () => {
  if (Object.values(requirements).some((ok) => !ok)) return;
  a = await makeE2eLab({ clients: 1, users: [{ name: 'alice', password: 'wonderland' }] });
  b = await makeE2eLab({ clients: 1, users: [], nasId: 'e2e-gw-2', shareRadiusOf: a });
  for (const l of [a, b]) {
    l.lab.addressClient(0, '10.77.0.10');
    await l.startDaemon();
  }
});

after(async () => {
  await b?.destroy();
  await a?.destroy();
});

function logon(l: E2eLab): string {
  const src = `
import http from 'node:http';
http.get({ host: '${LAB.gwV4}', port: 3990, path: '/json/logon?username=alice&password=wonderland' }, (res) => {
  let s = ''; res.on('data', (c) => (s += c)); res.on('end', () => { console.log(s.trim()); });
});`;
  const r: { clientState: number; session?: { sessionId: string } } = nodeIn(l.lab.clients[0] ?? '', src);
  assert.equal(r.clientState, 1, JSON.stringify(r));
  return r.session?.sessionId ?? '';
}

function disconnect(wan: E2eLab, to: string, id: string): string {
  const r = wan.in(wan.lab.wan, ['sh', '-c', `printf '%s\\n' "$1" | radclient -x -t 2 -r 1 "$2" disconnect "$3"`, 'sh', `Acct-Session-Id = "${id}"`, `${to}:3799`, SECRET], 20_000);
  return r.stdout + r.stderr;
}

test('8: two gateways against one freeradius: the right NAS-Identifier, and a Disconnect-Request reaches the right gateway', async (t) => {
  if (!needs(t, requirements)) return;
  assert.ok(a && b);
  const idA = logon(a);
  const idB = logon(b);
  const starts = async () => (await a?.radius.detailRecords() ?? []).filter((r) => r.get('Acct-Status-Type')?.[0] === 'Start');
  assert.ok(await until(async () => (await starts()).length >= 2, 5000));
  const nasOf = async (id: string) => (await starts()).find((r) => r.get('Acct-Session-Id')?.[0] === id)?.get('NAS-Identifier')?.[0];
  assert.equal(await nasOf(idA), 'e2e-gw-1');
  assert.equal(await nasOf(idB), 'e2e-gw-2');

  // B does not hold A's session: NAK; A's session stays.
  assert.match(disconnect(a, SECOND.gwV4, idA), /Disconnect-NAK[\s\S]*Session-Context-Not-Found/);
  assert.match(a.query('list').stdout, new RegExp(idA));
  // B's session, sent to B: ACK, and only B's session ends.
  assert.match(disconnect(a, SECOND.gwV4, idB), /Disconnect-ACK/);
  assert.doesNotMatch(b.query('list').stdout, new RegExp(idB));
  assert.match(a.query('list').stdout, new RegExp(idA));
  const stopped = await until(async () => (await a?.radius.detailRecords() ?? []).some((r) => r.get('Acct-Status-Type')?.[0] === 'Stop' && r.get('Acct-Session-Id')?.[0] === idB), 5000);
  assert.ok(stopped, 'Accounting-Stop of the disconnected session');
});
