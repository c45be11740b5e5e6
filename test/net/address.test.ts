// Prefix arithmetic the route rules depend on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4HostRange, netmask, netmaskLength, parsePrefixed, prefixContains } from '../../src/net/address.js';

test('a /32 does not contain the gateway in another subnet; a /24 does', () => {
  const host = parsePrefixed('198.51.100.10/32');
  assert.ok(host !== undefined);
  assert.equal(prefixContains(host, '192.0.2.1'), false);
  assert.equal(prefixContains(host, '198.51.100.10'), true);
  const net = parsePrefixed('192.0.2.7/24');
  assert.ok(net !== undefined);
  assert.equal(prefixContains(net, '192.0.2.1'), true);
  assert.equal(prefixContains(net, '192.0.3.1'), false);
  assert.equal(prefixContains(net, '2001:db8::1'), false);
});

test('IPv6 prefixes, with :: in any place and an IPv4 tail', () => {
  const p = parsePrefixed('2001:db8:1f0a::2/64');
  assert.ok(p !== undefined);
  assert.equal(prefixContains(p, '2001:db8:1f0a::1'), true);
  assert.equal(prefixContains(p, '2001:db8:1f0b::1'), false);
  assert.equal(prefixContains(parsePrefixed('::ffff:192.0.2.0/120')!, '::ffff:192.0.2.77'), true);
  assert.equal(prefixContains(parsePrefixed('2001:db8::2/128')!, '2001:db8::1'), false);
});

test('netmasks both ways, and bad input', () => {
  assert.equal(netmask(32), '255.255.255.255');
  assert.equal(netmask(24), '255.255.255.0');
  assert.equal(netmask(0), '0.0.0.0');
  assert.equal(netmaskLength('255.255.255.255'), 32);
  assert.equal(netmaskLength('0xffffff00'), 24);
  assert.equal(netmaskLength('255.0.255.0'), undefined);
  assert.equal(parsePrefixed('198.51.100.10/33'), undefined);
  assert.equal(parsePrefixed('198.51.100.300'), undefined);
  assert.equal(parsePrefixed('1.2.3.4/8/9'), undefined);
  assert.deepEqual(ipv4HostRange(parsePrefixed('10.0.0.0/24')!), { first: '10.0.0.1', last: '10.0.0.254' });
});
