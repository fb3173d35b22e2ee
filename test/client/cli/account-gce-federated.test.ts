// `imagecast account gce add --federated` as people run it: the compiled CLI against a real
// PostgreSQL, with the configuration gcloud writes, or with the provider and token file alone.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../support/cli-process.js';
import { TEST_GCE_KEY } from '../../support/gce-key.js';
import { freshDatabaseUrl, tempDir } from '../../support/stack.js';

const PROVIDER = 'projects/123456789012/locations/global/workloadIdentityPools/ci-pool/providers/ci-oidc';
const SERVICE_ACCOUNT = 'imagecast@my-project-1.iam.gserviceaccount.com';

/** As `gcloud iam workload-identity-pools create-cred-config PROVIDER --service-account=… --credential-source-file=…` writes it. */
const GCLOUD_CONFIG = {
  universe_domain: 'googleapis.com',
  type: 'external_account',
  audience: `//iam.googleapis.com/${PROVIDER}`,
  subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
  token_url: 'https://sts.googleapis.com/v1/token',
  credential_source: { file: '/var/run/secrets/tokens/gcp-token', format: { type: 'text' } },
  service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${SERVICE_ACCOUNT}:generateAccessToken`,
};

describe('imagecast account gce --federated (CLI, PostgreSQL)', () => {
  let env: NodeJS.ProcessEnv;
  const dir = tempDir('cli-gce-federated');
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(content));
    return path;
  };
  before(async () => {
    const keysFile = file('keys.json', { current: 'k1', keys: { k1: randomBytes(32).toString('base64') } });
    env = {
      ...process.env,
      IMAGECAST_DATABASE_URL: await freshDatabaseUrl('cli-gce-federated'),
      IMAGECAST_MASTER_KEYS_FILE: keysFile,
      IMAGECAST_MASTER_KEY: '',
    };
  });
  const run = (args: string[]) => runCli(args, env);
  const add = (name: string, ...args: string[]) =>
    run(['account', 'gce', 'add', '--name', name, '--zone', 'us-east1-b', '--bucket', 'images', ...args]);

  it('adds a keyless account from the configuration gcloud writes; show names the kind and the token file, nothing secret', async () => {
    const config = file('wif.json', GCLOUD_CONFIG);
    const added = await add(
      'keyless',
      '--project',
      'my-project-1',
      '--federated',
      '--credential-config',
      config,
    );
    assert.equal(added.status, 0, added.stderr);
    assert.match(
      added.stdout,
      /added gce account keyless \(us-east1-b\): workload identity federation \(keyless\), sealed with master key k1/,
    );
    const shown = await run(['account', 'gce', 'show', '--name', 'keyless']);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /project: my-project-1/);
    assert.match(shown.stdout, /credentials\.kind: workload identity federation \(keyless\)/);
    assert.match(shown.stdout, /credentials\.token_file: \/var\/run\/secrets\/tokens\/gcp-token/);
    assert.match(shown.stdout, new RegExp(`credentials\\.service_account: ${SERVICE_ACCOUNT}`));
    const json = await run(['account', 'gce', 'show', '--name', 'keyless', '--json']);
    assert.equal(json.status, 0, json.stderr);
    const summary = JSON.parse(json.stdout) as {
      settings: Record<string, unknown>;
      credentials: Record<string, string>;
    };
    assert.equal(summary.settings.project, 'my-project-1');
    assert.deepEqual(summary.credentials, {
      kind: 'workload identity federation (keyless)',
      audience: GCLOUD_CONFIG.audience,
      token_file: '/var/run/secrets/tokens/gcp-token',
      service_account: SERVICE_ACCOUNT,
    });
  });

  it('adds one from the provider and the token file alone, as google-github-actions/auth takes them', async () => {
    const added = await add(
      'keyless-flags',
      '--project',
      'my-project-1',
      '--federated',
      '--workload-identity-provider',
      PROVIDER,
      '--token-file',
      '/run/ci/oidc-token',
      '--json',
    );
    assert.equal(added.status, 0, added.stderr);
    const summary = JSON.parse(added.stdout) as { credentials: Record<string, string> };
    assert.deepEqual(summary.credentials, {
      kind: 'workload identity federation (keyless)',
      audience: `//iam.googleapis.com/${PROVIDER}`,
      token_file: '/run/ci/oidc-token',
    });
  });

  it('turns a service-account account keyless with update (the project is then required)', async () => {
    const key = file('sa.json', TEST_GCE_KEY);
    assert.equal((await add('was-keyed', '--credentials', key)).status, 0);
    const config = file('wif-update.json', GCLOUD_CONFIG);
    const noProject = await run([
      'account',
      'gce',
      'update',
      '--name',
      'was-keyed',
      '--credential-config',
      config,
    ]);
    assert.equal(noProject.status, 2);
    assert.match(
      noProject.stderr,
      /\$\.project: required with external_account \(keyless\) credentials: they name no project \(CLI: --project ID\)/,
    );
    const updated = await run([
      'account',
      'gce',
      'update',
      '--name',
      'was-keyed',
      '--project',
      'my-project-1',
      '--credential-config',
      config,
    ]);
    assert.equal(updated.status, 0, updated.stderr);
    assert.match(updated.stdout, /workload identity federation \(keyless\)/);
  });

  it('refuses bad input with exit code 2, naming the flag or the field', async () => {
    const { audience: _, ...noAudience } = GCLOUD_CONFIG;
    const bad: Array<[string[], RegExp]> = [
      [
        ['--project', 'my-project-1', '--federated'],
        /--federated: needs --credential-config FILE, or --workload-identity-provider NAME and --token-file PATH/,
      ],
      [
        [
          '--project',
          'my-project-1',
          '--federated',
          '--credential-config',
          file('c1.json', GCLOUD_CONFIG),
          '--credentials',
          file('k1.json', TEST_GCE_KEY),
        ],
        /--credentials: not with --federated/,
      ],
      [
        [
          '--project',
          'my-project-1',
          '--credential-config',
          file('c2.json', GCLOUD_CONFIG),
          '--token-file',
          '/t',
        ],
        /--credential-config: not with --workload-identity-provider, --token-file or --service-account/,
      ],
      [
        ['--project', 'my-project-1', '--federated', '--credential-config', file('k2.json', TEST_GCE_KEY)],
        /--credential-config: .*k2\.json has type "service_account", expected an external_account configuration \(a service account key goes in --credentials/,
      ],
      [
        ['--federated', '--credential-config', file('c3.json', GCLOUD_CONFIG)],
        /\$\.project: required with external_account/,
      ],
      [
        ['--project', 'my-project-1', '--credential-config', file('c4.json', noAudience)],
        /\$\.credentials\.audience: required/,
      ],
      [
        [
          '--project',
          'my-project-1',
          '--credential-config',
          file('c5.json', { ...GCLOUD_CONFIG, credential_source: { url: 'http://169.254.169.254/token' } }),
        ],
        /\$\.credentials\.credential_source\.url: not supported \(a subject token fetched from a URL\)/,
      ],
      [
        [
          '--project',
          'my-project-1',
          '--credential-config',
          file('c6.json', { ...GCLOUD_CONFIG, credential_source: { executable: { command: '/bin/tok' } } }),
        ],
        /\$\.credentials\.credential_source\.executable: not supported/,
      ],
      [
        [
          '--project',
          'my-project-1',
          '--federated',
          '--workload-identity-provider',
          PROVIDER,
          '--token-file',
          'relative/token',
        ],
        /\$\.credentials\.credential_source\.file: an absolute path/,
      ],
      [
        [
          '--project',
          'my-project-1',
          '--federated',
          '--workload-identity-provider',
          'ci-pool/ci-oidc',
          '--token-file',
          '/t',
        ],
        /--workload-identity-provider: expected projects\/NUMBER\/locations\/global\/workloadIdentityPools\/POOL\/providers\/PROVIDER, got "ci-pool\/ci-oidc"/,
      ],
      [
        [
          '--project',
          'My_Project',
          '--federated',
          '--workload-identity-provider',
          PROVIDER,
          '--token-file',
          '/t',
        ],
        /\$\.project: a GCP project id such as my-project-123/,
      ],
    ];
    for (const [args, message] of bad) {
      const ran = await add('keyless-bad', ...args);
      assert.equal(ran.status, 2, `${args.join(' ')}: ${ran.stderr}`);
      assert.match(ran.stderr, message, args.join(' '));
    }
    const json = await add(
      'keyless-bad',
      '--federated',
      '--credential-config',
      file('c7.json', GCLOUD_CONFIG),
      '--json',
    );
    assert.equal(json.status, 2);
    const { error } = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    assert.equal(error.code, 'invalid_input');
    assert.match(error.message, /\$\.project: required/);
    const listed = await run(['account', 'gce', 'list', '--json']);
    assert.ok(
      !(JSON.parse(listed.stdout) as Array<{ name: string }>).some((a) => a.name === 'keyless-bad'),
      'nothing stored',
    );
  });
});
