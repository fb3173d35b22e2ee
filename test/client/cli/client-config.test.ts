import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectionSettings } from '../../../client/cli/client-config.js';
import { temporalConfigSchema, temporalConnectionOptions } from '../../../schemas/config.js';
import { tempDir } from '../../support/stack.js';

describe('CLI connection settings', () => {
  const dir = tempDir('client-config');
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('take the config file, then the environment, then flags', () => {
    const config = file('config.json', JSON.stringify({ address: 'file:7233', namespace: 'from-file', apiKeyFile: file('key', 'secret-api-key\n') }));
    const env = { IMAGECAST_CONFIG: config, IMAGECAST_TEMPORAL_NAMESPACE: 'from-env', HOME: dir };
    assert.deepEqual(connectionSettings({}, env), { address: 'file:7233', namespace: 'from-env', apiKey: 'secret-api-key' });
    assert.deepEqual(connectionSettings({ address: 'flag:7233' }, env).address, 'flag:7233');
    assert.deepEqual(connectionSettings({}, { HOME: dir }), {}, 'no file at the default place: nothing');
    assert.throws(() => connectionSettings({}, { IMAGECAST_CONFIG: file('bad.json', '{ nope') }), /config file .*bad.json: not valid JSON/);
  });

  it('turn TLS files and an API key into the SDK connection options', () => {
    const ca = file('ca.pem', 'CA');
    const cert = file('client.pem', 'CERT');
    const key = file('client.key', 'KEY');
    const mtls = temporalConnectionOptions(
      temporalConfigSchema.parse({ address: 'ns.tmprl.cloud:7233', tls: { serverRootCaCertFile: ca, clientCertFile: cert, clientKeyFile: key } }),
    );
    assert.deepEqual(mtls.tls, { serverRootCACertificate: Buffer.from('CA'), clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') } });
    const cloud = temporalConnectionOptions(temporalConfigSchema.parse({ address: 'x:7233', apiKey: 'k' }));
    assert.deepEqual([cloud.tls, cloud.apiKey], [true, 'k'], 'an API key implies TLS');
    assert.equal(temporalConnectionOptions(temporalConfigSchema.parse({})).tls, undefined, 'plain by default (a dev server)');
    assert.throws(
      () => temporalConnectionOptions(temporalConfigSchema.parse({ tls: { serverRootCaCertFile: join(dir, 'missing.pem') } })),
      /tls.serverRootCaCertFile: cannot read .*missing.pem: ENOENT/,
    );
  });
});
