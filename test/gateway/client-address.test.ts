import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  clientAddress,
  NO_TRUSTED_PROXIES,
  parseTrustedProxies,
} from '../../gateway/client-address.js';

describe('gateway client address', () => {
  const loopback = parseTrustedProxies('loopback');

  it('is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    assert.equal(clientAddress('127.0.0.1', '10.20.1.2', NO_TRUSTED_PROXIES), '127.0.0.1');
    assert.equal(clientAddress('::ffff:192.0.2.9', '10.20.1.2', NO_TRUSTED_PROXIES), '192.0.2.9');
  });

  it('is the last untrusted hop of X-Forwarded-For when the peer is a trusted proxy', () => {
    assert.equal(clientAddress('127.0.0.1', '10.20.1.2', loopback), '10.20.1.2');
    // A client that sends its own header cannot choose its address: the proxy appended the real one.
    assert.equal(clientAddress('127.0.0.1', '10.20.9.9, 198.51.100.7', loopback), '198.51.100.7');
    const chain = parseTrustedProxies('loopback, 10.0.0.0/8');
    assert.equal(clientAddress('::1', ['198.51.100.7, 10.1.1.1', '10.2.2.2'], chain), '198.51.100.7');
    assert.equal(clientAddress('::ffff:127.0.0.1', '2001:db8::5', loopback), '2001:db8::5');
  });

  it('ignores X-Forwarded-For from a peer that is not trusted', () => {
    assert.equal(clientAddress('192.0.2.9', '10.20.1.2', loopback), '192.0.2.9');
  });

  it('stops at the proxy that sent a hop that is not an address, and uses the peer with no header', () => {
    assert.equal(clientAddress('127.0.0.1', 'unknown', loopback), '127.0.0.1');
    assert.equal(clientAddress('127.0.0.1', 'junk, 10.0.0.1', parseTrustedProxies('loopback,10.0.0.1')), '10.0.0.1');
    assert.equal(clientAddress('127.0.0.1', undefined, loopback), '127.0.0.1');
  });

  it('parses loopback, addresses and CIDR blocks of both families', () => {
    const trusted = parseTrustedProxies('loopback,10.0.0.0/8,192.0.2.1,fd00::/8');
    for (const ip of ['127.0.0.1', '127.9.9.9', '::1', '10.255.0.1', '192.0.2.1', 'fd12::1']) assert.ok(trusted.trusts(ip), ip);
    for (const ip of ['11.0.0.1', '192.0.2.2', '2001:db8::1', 'not-an-ip']) assert.ok(!trusted.trusts(ip), ip);
    assert.equal(trusted.description, 'loopback,10.0.0.0/8,192.0.2.1,fd00::/8');
  });

  it('refuses a bad entry naming the option, what it expected and what it got', () => {
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/', '10.0.0.0/8/8', 'fd00::/129']) {
      assert.throws(
        () => parseTrustedProxies(`loopback,${bad}`),
        new RegExp(`^TrustProxyError: --trust-proxy: expected loopback, an IP address or a CIDR block such as 10\\.0\\.0\\.0/8, got "${bad.replace(/[./]/g, '\\$&')}"$`),
      );
    }
  });
});
