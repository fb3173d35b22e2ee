// Keyless EC2 accounts: a role assumed with a web identity token file (AssumeRoleWithWebIdentity
// on moto's STS, behind our shim), the file read again at each renewal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { startAwsEmulator, type AwsEmulator } from '../../support/aws-emulator.js';
import { accountDirectory } from '../../../activities/accounts/account-directory.js';
import { AwsSessions } from '../../../activities/ec2/sessions.js';
import { ec2AccountSchema } from '../../../schemas/accounts.js';
import { tempDir } from '../../support/stack.js';

const ROLE = 'arn:aws:iam::123456789012:role/imagecast-keyless';

describe('EC2 web identity (keyless) credentials', () => {
  let aws: AwsEmulator;
  const tokenFile = join(tempDir('web-identity'), 'token');
  before(async () => {
    aws = await startAwsEmulator('web-identity');
  });
  after(async () => aws?.stop());

  const account = (credentials: Record<string, unknown>) => ({ name: 'keyless', region: 'us-east-1', credentials });

  it('assumes the role with the token from the file, works for EC2 calls, and reads the file again when it renews', async () => {
    writeFileSync(tokenFile, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aW1hZ2VjYXN0In0.c2ln\n');
    const directory = accountDirectory({ ec2: [account({ role_arn: ROLE, web_identity_token_file: tokenFile, session_duration_seconds: 900 })] });
    // Renew when less than 895 s of 900 are left: credentials "expire" seconds after they come.
    const sessions = new AwsSessions(directory, { endpoint: aws.endpoint, renewBeforeMs: 895_000 });
    try {
      const first = await sessions.credentialsFor('keyless');
      rmSync(tokenFile);
      assert.deepEqual(await sessions.credentialsFor('keyless'), first, 'cached while fresh: the file is not needed');
      assert.ok(first.sessionToken, 'temporary credentials from STS');
      assert.ok(first.expiration && first.expiration.getTime() > Date.now() + 800_000, 'they live the session duration asked for');
      const clients = await sessions.forRegion('keyless', 'us-east-1');
      const { Images } = await clients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], MaxResults: 5 }));
      assert.ok((Images ?? []).length > 0, 'an EC2 call signed with them works');

      await new Promise((resolve) => setTimeout(resolve, 5500));
      await assert.rejects(sessions.credentialsFor('keyless'), /account keyless: credentials.web_identity_token_file .*\/token cannot be read \(ENOENT\)/);
      writeFileSync(tokenFile, '');
      await assert.rejects(sessions.credentialsFor('keyless'), /credentials.web_identity_token_file .* is empty/);
      writeFileSync(tokenFile, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyb3RhdGVkIn0.c2ln');
      const renewed = await sessions.credentialsFor('keyless');
      assert.notEqual(renewed.accessKeyId, first.accessKeyId, 'new credentials from a new AssumeRoleWithWebIdentity');
    } finally {
      sessions.destroy();
    }
  });

  it('has the SDK clients ask again when Imagecast renews, so a client in use signs with the renewed credentials; parallel callers renew once', async () => {
    writeFileSync(tokenFile, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aW1hZ2VjYXN0In0.c2ln\n');
    const directory = accountDirectory({ ec2: [account({ role_arn: ROLE, web_identity_token_file: tokenFile, session_duration_seconds: 900 })] });
    const renewals: string[] = [];
    // Renewed 2 s after they come: far inside the 5 minutes before expiry in which the SDK alone would ask again.
    const sessions = new AwsSessions(directory, { endpoint: aws.endpoint, renewBeforeMs: 898_000, onRenewal: (name) => renewals.push(name) });
    try {
      const clients = await sessions.forRegion('keyless', 'us-east-1');
      const signers = () => aws.shim.calls('DescribeImages').map((c) => c.accessKeyId);
      const before = signers().length;
      await clients.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
      const first = await sessions.credentialsFor('keyless');
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await clients.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
      const [signedFirst, signedLater] = signers().slice(before);
      assert.equal(signedFirst, first.accessKeyId);
      assert.notEqual(signedLater, first.accessKeyId, 'the same client signed with renewed credentials');
      assert.deepEqual(renewals, ['keyless', 'keyless'], 'told of each renewal, by account name');

      await new Promise((resolve) => setTimeout(resolve, 2500));
      const parallel = await Promise.all(Array.from({ length: 8 }, () => sessions.credentialsFor('keyless')));
      assert.equal(new Set(parallel.map((c) => c.accessKeyId)).size, 1, 'one set for all');
      assert.equal(renewals.length, 3, 'eight callers finding them stale renewed once');
    } finally {
      sessions.destroy();
    }
  });

  it('validates the variant by field: an absolute path, STS duration limits, no mixing with external_id', () => {
    const parse = (credentials: Record<string, unknown>) => ec2AccountSchema.safeParse(account(credentials));
    assert.equal(parse({ role_arn: ROLE, web_identity_token_file: '/var/run/secrets/token' }).success, true);
    const issues = (credentials: Record<string, unknown>) => {
      const r = parse(credentials);
      assert.equal(r.success, false);
      return JSON.stringify(r.error!.issues);
    };
    assert.match(issues({ role_arn: ROLE, web_identity_token_file: 'token' }), /an absolute path/);
    assert.match(issues({ role_arn: ROLE, web_identity_token_file: '/t', session_duration_seconds: 60 }), /at least 900/);
    assert.match(issues({ role_arn: ROLE, web_identity_token_file: '/t', external_id: 'x' }), /either \{access_key_id, secret_access_key\}, \{role_arn, external_id\} or \{role_arn, web_identity_token_file\}|external_id/);
  });
});
