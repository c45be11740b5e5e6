import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpNeighJson } from '../../src/portal/client-lookup.js';

test('ip -6 -j neigh: global addresses by MAC; link-local, failed, incomplete and junk left out; at most 16 a MAC', () => {
  const entries = [
    { dst: 'fd00:77::10', dev: 'lan0', lladdr: '02:77:00:00:00:10', state: ['REACHABLE'] },
    { dst: 'FD00:77::7E57:1', dev: 'lan0', lladdr: '02:77:00:00:00:10', state: ['STALE'] },
    { dst: 'fe80::77:ff:fe00:10', dev: 'lan0', lladdr: '02:77:00:00:00:10', state: ['REACHABLE'] },
    { dst: 'fd00:77::11', dev: 'lan0', lladdr: '02:77:00:00:00:11', state: ['FAILED'] },
    { dst: 'fd00:77::12', dev: 'lan0', state: ['INCOMPLETE'] },
    { dst: 'not-an-address', dev: 'lan0', lladdr: '02:77:00:00:00:13', state: ['REACHABLE'] },
    { dst: 'fd00:77::14', dev: 'lan0', lladdr: 'junk', state: ['REACHABLE'] },
    ...Array.from({ length: 20 }, (_, i) => ({ dst: `fd00:77::1:${String(i)}`, dev: 'lan0', lladdr: '02:77:00:00:00:20', state: ['STALE'] })),
  ];
  const m = parseIpNeighJson(JSON.stringify(entries));
  assert.deepEqual(m.get('02:77:00:00:00:10'), ['fd00:77::10', 'fd00:77::7e57:1']);
  assert.equal(m.get('02:77:00:00:00:20')?.length, 16);
  assert.deepEqual([...m.keys()].sort(), ['02:77:00:00:00:10', '02:77:00:00:00:20']);
  assert.equal(parseIpNeighJson('').size, 0);
  assert.equal(parseIpNeighJson('{not json').size, 0);
  assert.equal(parseIpNeighJson('{"dst":"fd00::1"}').size, 0);
});
