// `npm run stack [-- --aws] [-- --gce] [-- --azure]`: the embedded default's servers for working by hand — a Temporal
// dev server with its Web UI, a PostgreSQL cluster and a build service with a sample build,
// on free loopback ports, state in .data/stack; with --aws also moto behind our EC2 shim, with --gce the GCS and Compute Engine fakes, with --azure Azurite and
// our Resource Manager fake.
// Prints the environment a worker and the CLI need; Ctrl-C (or SIGTERM) stops everything.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ensureDatabase, startPostgresCluster, type PostgresCluster } from './devstack/postgres-cluster.js';
import { startTemporalDevServer } from './devstack/temporal-dev-server.js';
import { startTemporalCluster } from './devstack/temporal-cluster.js';
import { SAMPLE_IMAGE, startSampleBuilds } from './devstack/sample-builds.js';
import { EMULATOR_KEYS, startAwsStack, type AwsStack } from './devstack/aws-stack.js';
import { STACK_BUCKET, startGceStack, type GceStack } from './devstack/gce-stack.js';
import { STACK_AZURE, startAzureStack, type AzureStack } from './devstack/azure-stack.js';

const USAGE = `Usage: npm run stack [-- --cluster] [-- --aws] [-- --gce] [-- --azure]

  --cluster  a real multi-service Temporal server (v1.32.2) on the stack's PostgreSQL instead of
             the dev server, no Web UI (needs "bash infra/install-cluster.sh" once)
  --aws      also start moto (the AWS emulator) behind Imagecast's EC2 shim, and print the
             settings for EC2 releases against it (docs/ec2.md, "Trying it by hand")
  --gce      also start fake-gcs-server (behind our resume shim) and our Compute Engine fake,
             and print the settings for GCE releases against them (docs/gce.md, "Trying it by hand")
  --azure    also start Azurite and our Resource Manager fake (HTTPS), and print the settings
             for Azure releases against them (docs/azure.md, "Trying it by hand")
  --help     show this help`;

let options: { cluster?: boolean; aws?: boolean; gce?: boolean; azure?: boolean; help?: boolean };
try {
  options = parseArgs({
    options: {
      cluster: { type: 'boolean' },
      aws: { type: 'boolean' },
      gce: { type: 'boolean' },
      azure: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  }).values;
} catch (error) {
  console.error(`stack: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const stateDir = resolve(process.env.IMAGECAST_STACK_DIR ?? join(projectRoot, '.data/stack'));
mkdirSync(stateDir, { recursive: true });

// The cluster keeps its state in the stack's PostgreSQL (databases temporal, temporal_visibility).
const startTemporal = async (postgres: Promise<PostgresCluster>) =>
  options.cluster
    ? { ...(await startTemporalCluster({ stateDir: join(stateDir, 'temporal-cluster'), postgres: await postgres })), uiUrl: undefined }
    : startTemporalDevServer({ stateDir, persist: true, projectRoot });
const postgresStarting = startPostgresCluster(join(stateDir, 'postgres'));
const [postgres, temporal, builds] = await Promise.all([
  postgresStarting,
  startTemporal(postgresStarting),
  startSampleBuilds(join(stateDir, 'builds')),
]);
const stops: Array<() => Promise<void>> = [temporal.stop, postgres.stop, builds.stop];
let aws: AwsStack | undefined;
let gce: GceStack | undefined;
let azure: AzureStack | undefined;
let starting = '';
try {
  if (options.aws) {
    starting = '--aws';
    aws = await startAwsStack(stateDir);
    stops.unshift(aws.stop);
  }
  if (options.gce) {
    starting = '--gce';
    gce = await startGceStack(stateDir);
    stops.unshift(gce.stop);
  }
  if (options.azure) {
    starting = '--azure';
    azure = await startAzureStack(stateDir);
    stops.unshift(azure.stop);
  }
} catch (error) {
  console.error(`stack: ${starting}: ${(error as Error).message}`);
  await Promise.all(stops.map((stop) => stop()));
  process.exit(1);
}
const databaseUrl = await ensureDatabase(postgres.adminUrl, 'imagecast');
const lines = [
  `export IMAGECAST_TEMPORAL_ADDRESS=${temporal.address}${options.cluster ? '      # a Temporal cluster (frontend, history, matching, worker) on PostgreSQL' : ''}`,
  `export IMAGECAST_DATABASE_URL=${databaseUrl}`,
  ...(temporal.uiUrl ? [`export IMAGECAST_UI_URL=${temporal.uiUrl}`] : []),
];
const keyed = aws ?? gce ?? azure;
if (keyed)
  lines.push('unset IMAGECAST_MASTER_KEY', `export IMAGECAST_MASTER_KEYS_FILE=${keyed.masterKeysFile}`);
if (aws) {
  lines.push(
    `export IMAGECAST_AWS_ENDPOINT=${aws.endpoint}      # moto (${aws.motoEndpoint}) behind the EC2 shim`,
    'export IMAGECAST_EC2_POLL_MS=500',
    '# worker (another shell, same env): node dist/worker/main.js --queues workflows,local,ec2',
    '# add the EC2 account once (it is kept in PostgreSQL; moto forgets its images when the stack stops):',
    `#   printf %s '${EMULATOR_KEYS.secretAccessKey}' | npm run --silent imagecast -- account ec2 add --name moto --region us-east-1 --additional-regions eu-west-1 --access-key-id ${EMULATOR_KEYS.accessKeyId} --secret-access-key-file -`,
  );
}
if (gce) {
  lines.push(
    `export IMAGECAST_GCS_ENDPOINT=${gce.storageEndpoint}      # fake-gcs-server behind our resume shim`,
    `export IMAGECAST_GCE_COMPUTE_ENDPOINT=${gce.computeEndpoint}      # our Compute Engine fake`,
    'export IMAGECAST_GCE_POLL_MS=200',
    `# worker (another shell, same env): node dist/worker/main.js --queues workflows,local${aws ? ',ec2' : ''},gce${options.azure ? ',azure' : ''}`,
    '# add the GCE account once (it is kept in PostgreSQL; the fakes forget their images when the stack stops):',
    `#   npm run --silent imagecast -- account gce add --name fake-gce --zone us-east1-b --bucket ${STACK_BUCKET} --credentials ${gce.keyFile}`,
  );
}
if (azure) {
  const s = STACK_AZURE;
  lines.push(
    `export IMAGECAST_AZURE_ARM_ENDPOINT=${azure.armEndpoint}      # our Resource Manager fake`,
    `export IMAGECAST_AZURE_ARM_CA_FILE=${azure.armCaFile}`,
    `export IMAGECAST_AZURE_BLOB_ENDPOINT=${azure.blobEndpoint}      # Azurite`,
    `export IMAGECAST_AZURE_BLOB_KEY=${azure.blobKey}`,
    'export IMAGECAST_AZURE_POLL_MS=200',
    `# worker (another shell, same env): node dist/worker/main.js --queues workflows,local${aws ? ',ec2' : ''}${gce ? ',gce' : ''},azure`,
    '# add the Azure account once (it is kept in PostgreSQL; the fakes forget their images when the stack stops):',
    `#   npm run --silent imagecast -- account azure add --name fake-azure --region ${s.region} --source-container ${s.container} --source-resource-group ${s.resourceGroup} --source-storage-account ${s.storageAccount} --credentials ${azure.credentialsFile}`,
  );
}
lines.push(
  `# sample build service: "download_url": "${builds.url}", "image": "${SAMPLE_IMAGE}"`,
  `# Web UI: ${temporal.uiUrl ?? 'none (the cluster has no ui-server here)'}   state: ${stateDir}   Ctrl-C stops the servers`,
);
console.log(lines.join('\n'));

await new Promise<void>((done) => {
  process.once('SIGINT', done);
  process.once('SIGTERM', done);
});
await Promise.all(stops.map((stop) => stop()));
