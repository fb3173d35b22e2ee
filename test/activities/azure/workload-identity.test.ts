// Keyless Azure accounts: a workload identity signs in with the OIDC token in its file
// (client credentials grant with a federated credential, through the real @azure/identity and
// MSAL, on our Microsoft identity platform fake over HTTPS), and ARM calls carry the access
// token it got. The file is read again for each new access token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accountDirectory } from '../../../activities/accounts/account-directory.js';
import { AzureSessions } from '../../../activities/azure/clients.js';
import { startArmFake, type ArmFake } from '../../../infra/fakes/azure-arm/index.js';
import { startIdentityFake, type IdentityFake } from '../../../infra/fakes/azure-identity/identity.js';
import { startOidcIssuer, type OidcIssuer } from '../../../infra/fakes/oidc-issuer/issuer.js';
import { azureAccountSchema } from '../../../schemas/accounts.js';
import { SUBSCRIPTION, sleep } from '../../support/azure-arm-fake.js';
import { tempDir } from '../../support/stack.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '0c3e1f2a-5b6d-4c7e-8f90-a1b2c3d4e5f6';
const SUBJECT = 'system:serviceaccount:imagecast:worker';
const AUDIENCE = 'api://AzureADTokenExchange';

describe('Azure workload identity (keyless) credentials', () => {
  let issuer: OidcIssuer;
  let identity: IdentityFake;
  let arm: ArmFake;
  const tokenFile = join(tempDir('azure-workload-identity'), 'azure-identity-token');
  before(async () => {
    issuer = await startOidcIssuer();
    identity = await startIdentityFake({
      federatedCredentials: [{ clientId: CLIENT, issuer: issuer.issuer, subject: SUBJECT }],
    });
    arm = await startArmFake();
  });
  after(async () => {
    await Promise.all([issuer?.stop(), identity?.stop(), arm?.stop()]);
  });

  const credentials = (extra: Record<string, unknown> = {}) => ({
    tenantId: TENANT,
    clientId: CLIENT,
    subscriptionId: SUBSCRIPTION,
    federated_token_file: tokenFile,
    activeDirectoryEndpointUrl: identity.authorityHost,
    ...extra,
  });
  const account = (name: string, creds: Record<string, unknown>) => ({
    name,
    region: 'westeurope',
    source_container: 'images',
    source_resource_group: 'rg',
    source_storage_account: 'imgs',
    credentials: creds,
  });
  /** AzureSessions as the worker makes them, with no credential override: only the fakes' endpoints and CAs. */
  const sessionsFor = (name: string, creds = credentials()) =>
    new AzureSessions(accountDirectory({ azure: [account(name, creds)] }), {
      armEndpoint: arm.endpoint,
      armCaPem: arm.caPem,
      authorityCaPem: identity.caPem,
    });
  const lastArmAuthorization = () => arm.state.requests().at(-1)?.authorization;
  // jti: two tokens minted within one second must still differ, as a rotated token does.
  const mint = (subject = SUBJECT) =>
    issuer.mint({ sub: subject, jti: randomUUID() }, { audience: AUDIENCE });

  it('signs in with the token from the file and ARM calls carry the access token minted for it', async () => {
    const projected = await mint();
    writeFileSync(tokenFile, `${projected}\n`);
    identity.setTokenLifetime(3599);
    const { resources, subscriptionId } = await sessionsFor('keyless').forAccount('keyless');
    assert.equal(subscriptionId, SUBSCRIPTION);
    const before = identity.tokenRequests.length;
    await resources.resourceGroups.createOrUpdate('keyless-rg', { location: 'westeurope' });
    await resources.resourceGroups.get('keyless-rg');

    const asked = identity.tokenRequests.slice(before);
    assert.equal(asked.length, 1, 'one access token serves both calls while it is fresh');
    const [request] = asked;
    assert.equal(request!.status, 200, request!.error);
    assert.equal(request!.tenant, TENANT);
    assert.equal(request!.clientId, CLIENT);
    assert.equal(request!.scope, 'https://management.azure.com/.default');
    assert.equal(request!.assertion, projected, 'the client assertion is the file content (trimmed)');
    assert.equal(lastArmAuthorization(), `Bearer ${request!.accessToken}`);
    assert.ok(
      identity.metadataRequests.includes(`/${TENANT}/v2.0/.well-known/openid-configuration`),
      'MSAL read the tenant OpenID configuration from the authority itself (no instance discovery)',
    );
  });

  it('reads the file again for a new access token: a rotated token is what the next sign-in sends', async () => {
    writeFileSync(tokenFile, await mint());
    identity.setTokenLifetime(2); // the pipeline must refresh within a second of expiry
    const { resources } = await sessionsFor('rotating').forAccount('rotating');
    await resources.resourceGroups.get('keyless-rg');
    const first = identity.tokenRequests.at(-1)!;
    assert.equal(lastArmAuthorization(), `Bearer ${first.accessToken}`);

    const rotated = await mint();
    assert.notEqual(rotated, first.assertion);
    writeFileSync(tokenFile, rotated); // as the kubelet replaces a projected token
    await sleep(2200);
    await resources.resourceGroups.get('keyless-rg');
    const second = identity.tokenRequests.at(-1)!;
    assert.equal(second.assertion, rotated, 'the new file content, not a cached one');
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(lastArmAuthorization(), `Bearer ${second.accessToken}`);
  });

  it('a missing or empty token file fails the call naming the account, the field and the path; nothing is sent', async () => {
    identity.setTokenLifetime(3599);
    const asked = identity.tokenRequests.length;
    const calls = arm.state.requests().length;
    rmSync(tokenFile, { force: true });
    const missing = await sessionsFor('no-file').forAccount('no-file');
    await assert.rejects(missing.resources.resourceGroups.get('keyless-rg'), (error: Error) => {
      assert.match(
        error.message,
        /account no-file: credentials\.federated_token_file .*\/azure-identity-token cannot be read \(ENOENT\)/,
      );
      return true;
    });
    writeFileSync(tokenFile, '  \n');
    const empty = await sessionsFor('empty-file').forAccount('empty-file');
    await assert.rejects(
      empty.resources.resourceGroups.get('keyless-rg'),
      /account empty-file: credentials\.federated_token_file .*\/azure-identity-token is empty/,
    );
    assert.equal(identity.tokenRequests.length, asked, 'no token request without an assertion');
    assert.equal(arm.state.requests().length, calls, 'no ARM call without a token');
  });

  it('a token the federated credential does not match is refused by the identity platform, and ARM is not called', async () => {
    writeFileSync(tokenFile, await mint('system:serviceaccount:other:intruder'));
    const calls = arm.state.requests().length;
    const { resources } = await sessionsFor('intruder').forAccount('intruder');
    const intruder = identity.tokenRequests.length;
    await assert.rejects(resources.resourceGroups.get('keyless-rg'), (error: Error) => {
      assert.match(error.message, /AADSTS70021: No matching federated identity record/);
      const sent = identity.tokenRequests[intruder]!.assertion;
      assert.ok(
        sent && !error.message.includes(sent),
        'the assertion (a bearer credential) is not in the error',
      );
      return true;
    });
    assert.equal(identity.tokenRequests.at(-1)!.status, 400);
    assert.equal(arm.state.requests().length, calls);
  });

  it('validates the variant by field: GUIDs, an absolute path, no secret beside a federated token file', () => {
    const issues = (creds: Record<string, unknown>) => {
      const parsed = azureAccountSchema.safeParse(account('v', creds));
      assert.equal(parsed.success, false);
      return parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    assert.equal(azureAccountSchema.safeParse(account('v', credentials())).success, true);
    assert.match(
      issues(credentials({ federated_token_file: 'tokens/azure' })),
      /^credentials\.federated_token_file: an absolute path/m,
    );
    assert.match(
      issues(credentials({ clientId: 'app' })),
      /^credentials\.clientId: the application \(client\) id.*: a GUID/m,
    );
    const withSecret = issues(credentials({ clientSecret: 'do-not-echo-me' }));
    assert.match(withSecret, /^credentials: not part of a workload identity: clientSecret/m);
    assert.doesNotMatch(withSecret, /do-not-echo-me/);
    const { federated_token_file: _, ...neither } = credentials();
    assert.match(
      issues(neither),
      /^credentials\.clientSecret: required for a service principal \(or give federated_token_file/m,
    );
  });
});
