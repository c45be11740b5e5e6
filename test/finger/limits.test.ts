import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionLimiter, peerKey } from '../../src/finger/index.js';

describe('finger connection limits', () => {
  it('caps connections globally and per address', () => {
    const l = new ConnectionLimiter({ maxConnections: 3, maxPerIp: 2, ratePerSecond: 1000, burst: 1000 });
    assert.equal(l.admit('10.0.0.1', 0), 'ok');
    assert.equal(l.admit('10.0.0.1', 0), 'ok');
    assert.equal(l.admit('10.0.0.1', 0), 'ip-cap');
    assert.equal(l.admit('10.0.0.2', 0), 'ok');
    assert.equal(l.admit('10.0.0.3', 0), 'global-cap');
    l.release('10.0.0.1');
    assert.equal(l.admit('10.0.0.3', 0), 'ok');
  });

  it('rate-limits new connections with a token bucket that refills', () => {
    const l = new ConnectionLimiter({ maxConnections: 100, maxPerIp: 100, ratePerSecond: 2, burst: 2 });
    assert.equal(l.admit('10.0.0.1', 0), 'ok');
    assert.equal(l.admit('10.0.0.1', 0), 'ok');
    assert.equal(l.admit('10.0.0.1', 0), 'rate');
    assert.equal(l.admit('10.0.0.1', 499), 'rate');
    assert.equal(l.admit('10.0.0.1', 500), 'ok');
  });

  it('keeps its table bounded and sweeps idle addresses', () => {
    const l = new ConnectionLimiter({ maxConnections: 100000, maxPerIp: 10, ratePerSecond: 10, burst: 10, maxTracked: 100 });
    for (let i = 0; i < 100; i++) assert.equal(l.admit(`10.0.${String(i >> 8)}.${String(i & 255)}`, 0), 'ok');
    // Every tracked address holds a connection: a new one is refused, the table does not grow.
    assert.equal(l.admit('192.0.2.1', 0), 'table-full');
    assert.equal(l.tracked, 100);
    for (let i = 0; i < 100; i++) l.release(`10.0.${String(i >> 8)}.${String(i & 255)}`);
    // Once released and refilled, the entries are idle and make room.
    assert.equal(l.admit('192.0.2.1', 10000), 'ok');
    assert.equal(l.tracked, 1);
  });

  it('groups IPv6 by /64 and unmaps IPv4-mapped addresses', () => {
    assert.equal(peerKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(peerKey('2001:db8:1:2:aaaa::1'), peerKey('2001:db8:1:2::ffff'));
    assert.notEqual(peerKey('2001:db8:1:2::1'), peerKey('2001:db8:1:3::1'));
    assert.equal(peerKey('::1'), '0:0:0:0::/64');
  });
});
