import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listenConfig } from '../../gateway/listen-config.js';
import { tempDir } from '../support/stack.js';

describe('gateway listen settings', () => {
  const dir = tempDir('listen-config');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');

  it('is plain HTTP trusting no proxy by default', () => {
    const config = listenConfig({}, {});
    assert.equal(config.tls, undefined);
    assert.equal(config.trustedProxies.description, 'none');
  });

  it('reads the certificate and key from flags, or from IMAGECAST_GATEWAY_* when no flag is given', () => {
    assert.ok(listenConfig({ tlsCert: cert, tlsKey: key }, {}).tls?.cert.toString().includes('CERTIFICATE'));
    const fromEnv = listenConfig({}, { IMAGECAST_GATEWAY_TLS_CERT: cert, IMAGECAST_GATEWAY_TLS_KEY: key, IMAGECAST_GATEWAY_TRUST_PROXY: 'loopback' });
    assert.ok(fromEnv.tls);
    assert.ok(fromEnv.trustedProxies.trusts('127.0.0.1'));
    assert.equal(listenConfig({ trustProxy: '10.0.0.0/8' }, { IMAGECAST_GATEWAY_TRUST_PROXY: 'loopback' }).trustedProxies.trusts('127.0.0.1'), false);
  });

  it('names every problem at once: a lone cert or key, an unreadable file, a file that is not PEM, a bad proxy', () => {
    assert.throws(() => listenConfig({ tlsCert: cert }, {}), /^Error: --tls-key: required with --tls-cert$/);
    assert.throws(() => listenConfig({}, { IMAGECAST_GATEWAY_TLS_KEY: key }), /^Error: --tls-cert: required with --tls-key$/);
    const missing = join(dir, 'missing.pem');
    assert.throws(
      () => listenConfig({ tlsCert: missing, tlsKey: cert, trustProxy: 'proxy.example' }, {}),
      (e: Error) => {
        assert.equal(
          e.message,
          `--tls-cert: cannot read ${missing}: ENOENT; --tls-key: expected a PEM private key, got ${cert} without one; ` +
            '--trust-proxy: expected loopback, an IP address or a CIDR block such as 10.0.0.0/8, got "proxy.example"',
        );
        return true;
      },
    );
  });
});
