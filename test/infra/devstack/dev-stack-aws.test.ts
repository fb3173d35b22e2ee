// `npm run stack -- --aws` as docs/ec2.md tells a new user to use it: start the stack, take
// the environment it prints, start a worker, add the account with the printed command,
// release the sample build to EC2 (moto behind our shim) and find the AMIs in both regions.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { tempDir } from '../../support/stack.js';

const root = fileURLToPath(new URL('../../../..', import.meta.url));
const stackBin = join(root, 'dist/infra/dev-stack.js');
const cli = join(root, 'dist/client/cli/main.js');

/** Reads the stack's output up to its last line ("# Web UI: …"). */
function printedLines(child: ChildProcess): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    child.once('exit', (code) => reject(new Error(`stack exited with ${code}: ${lines.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('# Web UI:')) resolve(lines);
    });
  });
}

describe('npm run stack -- --aws', () => {
  const stateDir = tempDir('stack-aws');
  let stack: ChildProcess;
  let worker: ChildProcess | undefined;
  let lines: string[];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    // As root, PostgreSQL runs as the postgres user, which must be able to reach its data dir.
    chmodSync(stateDir, 0o755);
    stack = spawn(process.execPath, [stackBin, '--aws'], {
      env: { ...process.env, IMAGECAST_STACK_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    lines = await printedLines(stack);
    env = { ...process.env };
    for (const line of lines) {
      const exported = /^export (\w+)=(\S+)/.exec(line);
      if (exported) env[exported[1]!] = exported[2]!;
      const unset = /^unset (\w+)$/.exec(line);
      if (unset) delete env[unset[1]!];
    }
  });
  after(async () => {
    worker?.kill('SIGTERM');
    if (stack && stack.exitCode === null) {
      const exited = new Promise((resolve) => stack.once('exit', resolve));
      stack.kill('SIGTERM');
      await exited;
    }
  });

  it('prints the EC2 settings, and an account, a worker and a release work with them as printed', async () => {
    for (const name of ['IMAGECAST_TEMPORAL_ADDRESS', 'IMAGECAST_DATABASE_URL', 'IMAGECAST_AWS_ENDPOINT', 'IMAGECAST_MASTER_KEYS_FILE'])
      assert.ok(env[name], `prints ${name}`);
    assert.equal(statSync(env.IMAGECAST_MASTER_KEYS_FILE!).mode & 0o777, 0o600, 'the master keys file is private');

    const accountCommand = lines.find((l) => l.startsWith('#   printf'))?.replace(/^#\s+/, '');
    assert.ok(accountCommand, lines.join('\n'));
    const added = spawnSync('sh', ['-c', accountCommand], { cwd: root, env, encoding: 'utf8' });
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /added ec2 account moto \(aws us-east-1\)/);

    const buildLine = lines.find((l) => l.startsWith('# sample build service'));
    const downloadUrl = /"download_url": "([^"]+)"/.exec(buildLine ?? '')?.[1];
    assert.ok(downloadUrl, lines.join('\n'));

    worker = spawn(process.execPath, [join(root, 'dist/worker/main.js'), '--queues', 'workflows,local,ec2'], {
      env,
      stdio: 'ignore',
    });
    const jobFile = join(stateDir, 'ec2-job.json');
    writeFileSync(
      jobFile,
      JSON.stringify({
        cloud: 'ec2',
        cloud_account: 'moto',
        cloud_image_name: 'imagecast-sample-v{date}-b{release}',
        image_description: 'Imagecast sample image, released to moto by hand',
        download_url: downloadUrl,
        image: 'imagecast-sample',
        share_with: 'all',
      }),
    );
    const released = spawnSync(process.execPath, [cli, 'job', 'add', 'ec2', jobFile, '--wait'], { env, encoding: 'utf8', timeout: 240_000 });
    assert.equal(released.status, 0, released.stdout + released.stderr);
    assert.match(released.stdout, /succeeded\s+imagecast-sample-v\d{8}-b1/);

    for (const region of ['us-east-1', 'eu-west-1']) {
      const ec2 = new EC2Client({ region, endpoint: env.IMAGECAST_AWS_ENDPOINT, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
      ec2.destroy();
      const image = Images.find((i) => /^imagecast-sample-v\d{8}-b1$/.test(i.Name ?? ''));
      assert.ok(image, `an AMI in ${region}`);
      assert.equal(image.Public, true);
      assert.match(released.stdout, new RegExp(`image ${region}: ${image.ImageId}`));
    }
  });

  it('refuses an unknown option, naming it', () => {
    const run = spawnSync(process.execPath, [stackBin, '--aws-region', 'x'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /stack: Unknown option '--aws-region'/);
    assert.match(run.stderr, /Usage: npm run stack .*\[-- --aws\]/);
  });
});
