// Keyless GCE accounts (workload identity federation) through the real clients: the account's
// external_account configuration makes google-auth-library exchange the token in the file at
// our STS fake (which verifies it against the local OIDC issuer), and the Compute fake sees
// the access token the STS issued. No auth client is injected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accountDirectory } from '../../../activities/accounts/account-directory.js';
import { GceSessions } from '../../../activities/gce/clients.js';
import { startGceComputeFake, type GceComputeFake } from '../../../infra/fakes/gce-compute/index.js';
import { startGoogleStsFake, type GoogleStsFake } from '../../../infra/fakes/google-sts/sts.js';
import { startOidcIssuer, type OidcIssuer } from '../../../infra/fakes/oidc-issuer/issuer.js';
import { gceAccountSchema, gceProjectOf } from '../../../schemas/accounts.js';
import { TEST_GCE_KEY } from '../../support/gce-key.js';
import { tempDir } from '../../support/stack.js';

const PROVIDER =
  '//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/ci-oidc';
const PROJECT = 'imagecast-keyless';
const SERVICE_ACCOUNT = 'imagecast@imagecast-keyless.iam.gserviceaccount.com';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GCE workload identity federation (keyless) credentials', () => {
  let issuer: OidcIssuer;
  let sts: GoogleStsFake;
  let compute: GceComputeFake;
  const dir = tempDir('gce-federation');
  const tokenFile = join(dir, 'token');

  before(async () => {
    issuer = await startOidcIssuer();
    sts = await startGoogleStsFake({ providers: [{ audience: PROVIDER, issuer: issuer.issuer }] });
    compute = await startGceComputeFake({ operationMs: 20 });
  });
  after(async () => {
    await compute?.stop();
    await sts?.stop();
    await issuer?.stop();
  });

  const config = (overrides: Record<string, unknown> = {}) => ({
    type: 'external_account',
    audience: PROVIDER,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: sts.tokenUrl,
    credential_source: { file: tokenFile, format: { type: 'text' } },
    ...overrides,
  });
  const account = (name: string, credentials: Record<string, unknown>) => ({
    name,
    zone: 'us-east1-b',
    bucket: 'keyless-images',
    project: PROJECT,
    credentials,
  });
  /** An OIDC token for the provider, as a CI job or a Kubernetes projected token holds it. */
  const mint = (sub: string, audience = `https:${PROVIDER}`) =>
    issuer.mint({ sub }, { audience, expiresInSeconds: 600 });
  /** The Authorization header the Compute fake received last. */
  const lastAuthorization = () => compute.state.requests('images.list').at(-1)?.authorization;

  it('exchanges the file token at STS, calls Compute with the STS token, and reads the file again at each refresh', async () => {
    const first = await mint('system:serviceaccount:imagecast:worker');
    writeFileSync(tokenFile, `${first}\n`);
    sts.expiresInSeconds = 2;
    // Refresh when less than 1.5 s of the 2 s are left: the token goes stale half a second after it comes.
    const sessions = new GceSessions(accountDirectory({ gce: [account('keyless', config())] }), {
      computeEndpoint: compute.endpoint,
      refreshBeforeMs: 1500,
    });
    try {
      const c = await sessions.forAccount('keyless');
      assert.equal(c.project, PROJECT, 'the account-level project (the configuration names none)');
      await c.images.list({ project: c.project });
      const [exchange] = sts.exchanges();
      assert.equal(exchange?.subjectToken, first, 'the token from the file, trimmed');
      assert.equal(exchange?.audience, PROVIDER);
      assert.equal(exchange?.subjectTokenType, 'urn:ietf:params:oauth:token-type:jwt');
      assert.match(exchange?.scope ?? '', /auth\/cloud-platform/);
      assert.ok(exchange?.accessToken);
      assert.equal(
        lastAuthorization(),
        `Bearer ${exchange.accessToken}`,
        'Compute is called with the token STS minted',
      );

      await c.images.list({ project: c.project });
      assert.equal(sts.exchanges().length, 1, 'cached while fresh');

      const rotated = await mint('system:serviceaccount:imagecast:worker-rotated');
      writeFileSync(tokenFile, rotated);
      await sleep(600);
      await c.images.list({ project: c.project });
      const renewed = sts.exchanges()[1];
      assert.equal(renewed?.subjectToken, rotated, 'the file is read again: the platform rotated it');
      assert.ok(renewed?.accessToken && renewed.accessToken !== exchange.accessToken);
      assert.equal(lastAuthorization(), `Bearer ${renewed.accessToken}`);

      // gax retries a call whose auth failed before any request (as a network failure, so
      // a token file being rotated is waited for) up to the method's total timeout: one retry here.
      const once = { maxRetries: 1 };
      rmSync(tokenFile);
      await sleep(600);
      await assert.rejects(
        c.images.list({ project: c.project }, once),
        /account keyless: credentials\.credential_source\.file .*\/token cannot be read \(ENOENT\)/,
      );
      writeFileSync(tokenFile, ' \n');
      await assert.rejects(
        c.images.list({ project: c.project }, once),
        /account keyless: credentials\.credential_source\.file .*\/token is empty/,
      );
    } finally {
      sts.expiresInSeconds = 3600;
      await sessions.close();
    }
  });

  it('impersonates the service account when the configuration says so, and reads a JSON token file by field', async () => {
    const token = await mint('repo:org/images:ref:refs/heads/main');
    const jsonFile = join(dir, 'token.json');
    writeFileSync(jsonFile, JSON.stringify({ id_token: token, expires_at: 0 }));
    const credentials = config({
      credential_source: { file: jsonFile, format: { type: 'json', subject_token_field_name: 'id_token' } },
      service_account_impersonation_url: sts.impersonationUrl(SERVICE_ACCOUNT),
    });
    // Cloud Storage is pointed at the Compute fake too: it answers 404 to a Cloud Storage path
    // but records the Authorization header, which is all this asks of it.
    const sessions = new GceSessions(accountDirectory({ gce: [account('impersonating', credentials)] }), {
      computeEndpoint: compute.endpoint,
      storageEndpoint: compute.endpoint,
    });
    try {
      const c = await sessions.forAccount('impersonating');
      await c.images.list({ project: c.project });
      const exchange = sts.exchanges().at(-1)!;
      assert.equal(exchange.subjectToken, token);
      const [impersonation] = sts.impersonations();
      assert.equal(impersonation?.serviceAccount, SERVICE_ACCOUNT);
      assert.equal(
        impersonation?.bearer,
        exchange.accessToken,
        'generateAccessToken is asked with the STS token',
      );
      assert.equal(
        lastAuthorization(),
        `Bearer ${impersonation?.accessToken}`,
        "Compute sees the service account's token",
      );
      await c.storage
        .bucket('keyless-images')
        .getMetadata()
        .catch(() => undefined);
      const storageCall = compute.state
        .requests()
        .find((r) => r.path.startsWith('/storage/v1/b/keyless-images'));
      assert.equal(
        storageCall?.authorization,
        `Bearer ${impersonation?.accessToken}`,
        'Cloud Storage signs with the same token',
      );
      assert.equal(sts.impersonations().length, 1, 'one token for both clients');
    } finally {
      await sessions.close();
    }
  });

  it("reports STS's refusal of a token for another audience without echoing the token", async () => {
    const wrong = await mint('someone', 'https://example.com/not-this-provider');
    writeFileSync(tokenFile, wrong);
    const sessions = new GceSessions(accountDirectory({ gce: [account('refused', config())] }), {
      computeEndpoint: compute.endpoint,
    });
    try {
      const c = await sessions.forAccount('refused');
      const error = await c.images.list({ project: c.project }).then(
        () => assert.fail('a token for another audience was accepted'),
        (e: Error) => e,
      );
      assert.match(error.message, /invalid_grant/);
      assert.ok(!error.message.includes(wrong), 'the subject token is not in the error');
      assert.equal(sts.exchanges().at(-1)?.accessToken, undefined);
    } finally {
      await sessions.close();
    }
  });

  it('validates a configuration by field: file-sourced only, absolute paths, Google or loopback URLs, a project', () => {
    const cfg = {
      type: 'external_account',
      audience: PROVIDER,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: 'https://sts.googleapis.com/v1/token',
      credential_source: { file: '/var/run/secrets/tokens/gcp-token', format: { type: 'text' } },
      service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${SERVICE_ACCOUNT}:generateAccessToken`,
      universe_domain: 'googleapis.com',
    };
    const parse = (credentials: Record<string, unknown>, project: string | undefined = PROJECT) =>
      gceAccountSchema.safeParse(
        { name: 'k', zone: 'us-east1-b', bucket: 'keyless-images', ...(project && { project }), credentials },
        { reportInput: true },
      );
    assert.equal(parse(cfg).success, true, 'what gcloud create-cred-config writes');
    const problems = (credentials: Record<string, unknown>, project?: string) => {
      const r = parse(credentials, project);
      assert.equal(r.success, false);
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    const { audience: _, ...noAudience } = cfg;
    assert.match(problems(noAudience), /^credentials\.audience: required$/m);
    assert.match(
      problems({ ...cfg, audience: '//iam.googleapis.com/locations/global/workforcePools/p/providers/x' }),
      /credentials\.audience: a workload identity provider/,
    );
    assert.match(
      problems({ ...cfg, credential_source: { file: 'token' } }),
      /credentials\.credential_source\.file: an absolute path/,
    );
    assert.match(
      problems({
        ...cfg,
        credential_source: { url: 'http://169.254.169.254/token', headers: { 'Metadata-Flavor': 'x' } },
      }),
      /credentials\.credential_source\.url: not supported \(a subject token fetched from a URL\): Imagecast reads the subject token only from a file/,
    );
    assert.match(
      problems({ ...cfg, credential_source: { executable: { command: '/bin/token' } } }),
      /credentials\.credential_source\.executable: not supported \(a subject token from an executable/,
    );
    assert.match(
      problems({ ...cfg, credential_source: { environment_id: 'aws1', region_url: 'http://x' } }),
      /credentials\.credential_source\.environment_id: not supported \(an AWS-sourced configuration\)/,
    );
    assert.match(
      problems({ ...cfg, token_url: 'https://sts.example.com/v1/token' }),
      /credentials\.token_url: an https URL on googleapis\.com/,
    );
    assert.match(
      problems({ ...cfg, token_url: 'http://sts.googleapis.com/v1/token' }),
      /credentials\.token_url: an https URL/,
    );
    assert.match(problems(cfg, ''), /^project: required with external_account \(keyless\) credentials/m);
    assert.match(
      problems({ ...cfg, type: 'authorized_user' }),
      /credentials\.type: must be "service_account" \(a service account key file\) or "external_account"/,
    );
    const secretless = problems({
      ...cfg,
      audience: 'AUDIENCE-VALUE-1234',
      credential_source: { file: 'relative-TOKEN-PATH' },
    });
    assert.ok(
      !secretless.includes('AUDIENCE-VALUE-1234') && !secretless.includes('relative-TOKEN-PATH'),
      'no credential value is echoed',
    );
  });

  it("makes images in the account's project: `project` when set, else a key's project_id", () => {
    const keyed = gceAccountSchema.parse({ name: 'k', zone: 'us-east1-b', bucket: 'keyless-images', credentials: TEST_GCE_KEY });
    assert.equal(gceProjectOf(keyed), TEST_GCE_KEY.project_id);
    assert.equal(gceProjectOf({ ...keyed, project: 'other-project-1' }), 'other-project-1');
  });
});
