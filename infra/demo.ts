// `npm run demo`: a real release on the embedded default — a local Temporal dev server (with
// its Web UI), a local PostgreSQL, a worker, and the `local` cloud — end to end. State lives
// in .data/demo, so a second run deprecates the first run's image.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgresCluster, ensureDatabase } from './devstack/postgres-cluster.js';
import { startTemporalDevServer } from './devstack/temporal-dev-server.js';
import { publishBuild, startBuildServer } from './devstack/build-service.js';
import { startManagedProcess } from './devstack/child-process.js';
import { packagesOfDebianImage } from './devstack/image-packages.js';
import { ImagecastClient, type ReleaseStatus } from '../client/sdk/index.js';
import { formatTestResults } from '../client/cli/format-status.js';
import { freePort } from './devstack/free-port.js';
import { startCodecServer } from './codec/codec-server.js';
import { AesGcmPayloadCodec } from './codec/aes-gcm-codec.js';
import { generatePayloadKey, payloadKeysFromJson, type PayloadKeys } from './codec/payload-keys.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const stateDir = resolve(process.env.IMAGECAST_DEMO_DIR ?? join(projectRoot, '.data/demo'));
const keepRunning = process.stdin.isTTY && !process.env.CI && !process.argv.includes('--exit');
const say = (line: string) => console.log(line);

mkdirSync(join(stateDir, 'builds'), { recursive: true });
const stops: Array<() => Promise<void>> = [];
const stopAll = async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
};

try {
  say('Starting PostgreSQL, the payload codec server and the Temporal dev server…');
  // Payloads are encrypted in Temporal; the Web UI shows them decoded through our codec server.
  const payloadKeys = demoPayloadKeys(join(stateDir, 'payload-keys.json'));
  const uiPort = await freePort();
  const codecServer = await startCodecServer({
    codec: new AesGcmPayloadCodec(payloadKeys),
    corsOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
  });
  stops.push(codecServer.stop);
  const [postgres, temporal] = await Promise.all([
    startPostgresCluster(join(stateDir, 'postgres')),
    startTemporalDevServer({ stateDir, persist: true, projectRoot, uiPort, codecEndpoint: codecServer.url }),
  ]);
  stops.push(postgres.stop, temporal.stop);
  const databaseUrl = await ensureDatabase(postgres.adminUrl, 'imagecast');

  const builds = join(stateDir, 'builds');
  // A real, bootable image (Debian from Debian's mirror), so the test step boots it and
  // tests it over SSH; its .packages manifest lists what is really installed in it.
  const disk = demoImage();
  const release = String(readdirSync(builds).filter((f) => f.endsWith('.packages')).length + 1);
  say('Publishing a new build of the demo image (xz-compressed, as OBS publishes them)…');
  const build = await publishBuild(builds, {
    image: 'imagecast-demo',
    arch: 'x86_64',
    version: '1.0.0',
    release,
    disk,
    compression: 'xz',
    packages: await packagesOfDebianImage(disk),
  });
  const buildServer = await startBuildServer({ root: builds });
  stops.push(buildServer.stop);
  say(`Build service: ${buildServer.url} serves ${build.fileName}`);

  const worker = startManagedProcess(process.execPath, [join(projectRoot, 'dist/worker/main.js')], join(stateDir, 'worker.log'), {
    env: {
      ...process.env,
      IMAGECAST_TEMPORAL_ADDRESS: temporal.address,
      IMAGECAST_DATABASE_URL: databaseUrl,
      IMAGECAST_QUEUES: 'workflows,local',
      IMAGECAST_LOCAL_DATA_DIR: join(stateDir, 'local-cloud'),
      IMAGECAST_PAYLOAD_KEYS_FILE: join(stateDir, 'payload-keys.json'),
      IMAGECAST_PAYLOAD_KEY: '',
    },
  });
  stops.push(() => worker.stop('SIGTERM'));

  const job = JSON.parse(readFileSync(join(projectRoot, 'examples/jobs/local-demo.json'), 'utf8'));
  job.download_url = buildServer.url;
  const client = await ImagecastClient.connect({ address: temporal.address, payloadKeys });
  stops.push(() => client.close());
  const started = Date.now();
  const { releaseId } = await client.startRelease(job, { cloud: 'local' });
  const link = `${temporal.uiUrl}/namespaces/default/workflows/${encodeURIComponent(releaseId)}`;
  say(`Release ${releaseId} started\nWeb UI: ${link} (payloads encrypted; decoded by ${codecServer.url})`);

  const printed = new Set<string>();
  const status = await client.waitForRelease(releaseId, {
    pollIntervalMs: 250,
    onProgress: (s) => printFinishedSteps(s, printed),
  });
  printFinishedSteps(status, printed);
  say(`\nRelease ${status.state} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${status.imageName}`);
  for (const line of formatTestResults(status)) say(line);
  for (const image of status.images) say(`  ${image.region}: ${image.imageId}`);
  for (const image of status.deprecated) say(`  deprecated ${image.imageName} (${image.imageId}) in ${image.region}`);
  if (status.state !== 'succeeded') {
    say(`Error: ${status.error}\nWorker log: ${worker.logFile}`);
    process.exitCode = 1;
  }
  say(`Web UI: ${link}`);
  if (keepRunning) {
    say('The stack stays up so you can look around. Press Ctrl-C to stop.');
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
} catch (error) {
  console.error(`demo failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}

/** The bootable Debian demo image, built once per machine (about 2 minutes) and cached outside the clone. */
function demoImage(): string {
  // The script says on stderr when it builds; a cached image is just its path.
  return execFileSync('bash', [join(projectRoot, 'infra/build-demo-image.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** The demo's payload key, made once and kept with its state, so earlier runs stay readable in the UI. */
function demoPayloadKeys(path: string): PayloadKeys {
  if (!existsSync(path)) {
    const key = generatePayloadKey();
    writeFileSync(path, JSON.stringify({ current: 'demo', keys: { demo: key } }), { mode: 0o600 });
  }
  return payloadKeysFromJson(JSON.parse(readFileSync(path, 'utf8')), path);
}

function printFinishedSteps(status: ReleaseStatus, printed: Set<string>): void {
  for (const step of status.steps) {
    if (printed.has(step.name) || step.state === 'pending' || step.state === 'running') continue;
    printed.add(step.name);
    const took =
      step.startedAt && step.finishedAt
        ? ` (${((Date.parse(step.finishedAt) - Date.parse(step.startedAt)) / 1000).toFixed(1)}s)`
        : '';
    say(`  ${step.state === 'succeeded' ? '✔' : step.state === 'skipped' ? '–' : '✘'} ${step.name.padEnd(16)} ${step.state}${took}  ${step.detail ?? ''}`);
  }
}
