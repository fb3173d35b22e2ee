// `npm run stack [-- --aws] [-- --gce]`: the embedded default's servers for working by hand — a Temporal
// dev server with its Web UI, a PostgreSQL cluster and a build service with a sample build,
// on free loopback ports, state in .data/stack; with --aws also moto behind our EC2 shim, with --gce the GCS and Compute Engine fakes.
// Prints the environment a worker and the CLI need; Ctrl-C (or SIGTERM) stops everything.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ensureDatabase, startPostgresCluster } from './devstack/postgres-cluster.js';
import { startTemporalDevServer } from './devstack/temporal-dev-server.js';
import { SAMPLE_IMAGE, startSampleBuilds } from './devstack/sample-builds.js';
import { EMULATOR_KEYS, startAwsStack, type AwsStack } from './devstack/aws-stack.js';
import { STACK_BUCKET, startGceStack, type GceStack } from './devstack/gce-stack.js';

const USAGE = `Usage: npm run stack [-- --aws] [-- --gce]

  --aws    also start moto (the AWS emulator) behind Imagecast's EC2 shim, and print the
           settings for EC2 releases against it (docs/ec2.md, "Trying it by hand")
  --gce    also start fake-gcs-server (behind our resume shim) and our Compute Engine fake,
           and print the settings for GCE releases against them (docs/gce.md, "Trying it by hand")
  --help   show this help`;

let options: { aws?: boolean; gce?: boolean; help?: boolean };
try {
  options = parseArgs({ options: { aws: { type: 'boolean' }, gce: { type: 'boolean' }, help: { type: 'boolean' } } }).values;
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

const [postgres, temporal, builds] = await Promise.all([
  startPostgresCluster(join(stateDir, 'postgres')),
  startTemporalDevServer({ stateDir, persist: true, projectRoot }),
  startSampleBuilds(join(stateDir, 'builds')),
]);
const stops: Array<() => Promise<void>> = [temporal.stop, postgres.stop, builds.stop];
let aws: AwsStack | undefined;
let gce: GceStack | undefined;
try {
  if (options.aws) {
    aws = await startAwsStack(stateDir);
    stops.unshift(aws.stop);
  }
  if (options.gce) {
    gce = await startGceStack(stateDir);
    stops.unshift(gce.stop);
  }
} catch (error) {
  console.error(`stack: ${options.aws && !aws ? '--aws' : '--gce'}: ${(error as Error).message}`);
  await Promise.all(stops.map((stop) => stop()));
  process.exit(1);
}
const databaseUrl = await ensureDatabase(postgres.adminUrl, 'imagecast');
const lines = [
  `export IMAGECAST_TEMPORAL_ADDRESS=${temporal.address}`,
  `export IMAGECAST_DATABASE_URL=${databaseUrl}`,
  `export IMAGECAST_UI_URL=${temporal.uiUrl}`,
];
if (aws || gce) {
  lines.push('unset IMAGECAST_MASTER_KEY', `export IMAGECAST_MASTER_KEYS_FILE=${(aws ?? gce)!.masterKeysFile}`);
}
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
    `# worker (another shell, same env): node dist/worker/main.js --queues workflows,local${aws ? ',ec2' : ''},gce`,
    '# add the GCE account once (it is kept in PostgreSQL; the fakes forget their images when the stack stops):',
    `#   npm run --silent imagecast -- account gce add --name fake-gce --zone us-east1-b --bucket ${STACK_BUCKET} --credentials ${gce.keyFile}`,
  );
}
lines.push(
  `# sample build service: "download_url": "${builds.url}", "image": "${SAMPLE_IMAGE}"`,
  `# Web UI: ${temporal.uiUrl}   state: ${stateDir}   Ctrl-C stops the servers`,
);
console.log(lines.join('\n'));

await new Promise<void>((done) => {
  process.once('SIGINT', done);
  process.once('SIGTERM', done);
});
await Promise.all(stops.map((stop) => stop()));
