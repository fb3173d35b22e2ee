// images.insert's rawDisk check: the GCE fake reads the source object from fake-gcs-server
// and applies GCE's import rules (https://cloud.google.com/compute/docs/import/import-existing-image:
// a gzip'd GNU/OLDGNU tar whose entry is disk.raw, a whole number of GiB). The tarballs are
// made here with tar and gzip, the disk a sparse file from truncate, and uploaded with the SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { protos } from '@google-cloud/compute';
import { PassThroughClient } from 'google-auth-library';
import { accountDirectory } from '../../activities/accounts/account-directory.js';
import { GceSessions, type GceClients } from '../../activities/gce/clients.js';
import { startManagedProcess, waitUntilReady, type ManagedProcess } from '../../infra/devstack/child-process.js';
import { freePort } from '../../infra/devstack/free-port.js';
import { startGceComputeFake, type GceComputeFake } from '../../infra/fakes/gce-compute/index.js';
import { TEST_GCE_KEY } from '../support/gce-key.js';

type Operation = protos.google.cloud.compute.v1.IOperation;

const FAKE_GCS = join(homedir(), '.cache/imagecast/tools/fake-gcs-server-v1.55.1/fake-gcs-server');
const BUCKET = 'imagecast-images';
const run = promisify(execFile);

describe('gce compute fake: images.insert checks rawDisk.source in a storage emulator', { skip: !existsSync(FAKE_GCS) && `no ${FAKE_GCS}` }, () => {
  let dir: string;
  let gcs: ManagedProcess;
  let fake: GceComputeFake;
  let sessions: GceSessions;
  let c: GceClients;

  /** A tarball made by `tar FLAGS -cf - NAME | gzip` in `from`, uploaded as `object`. */
  const upload = async (object: string, from: string, name: string, tarFlags: string) => {
    const file = join(dir, `${object}`);
    await run('sh', ['-c', `tar ${tarFlags} -cf - ${name} | gzip -c > "${file}"`], { cwd: from });
    await c.storage.bucket(BUCKET).upload(file, { destination: object, resumable: false });
    return (await stat(file)).size;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'imagecast-gce-raw-disk-'));
    const port = await freePort();
    gcs = startManagedProcess(FAKE_GCS, ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory'], join(dir, 'fake-gcs.log'), { keepsParentAlive: false });
    const storageEndpoint = `http://127.0.0.1:${port}`;
    await waitUntilReady('fake-gcs-server', gcs, async () => (await fetch(`${storageEndpoint}/storage/v1/b`)).ok, 30_000);
    fake = await startGceComputeFake({ storageEndpoint, operationMs: 50 });
    const accounts = accountDirectory({ gce: [{ name: 'gce-test', zone: 'us-east1-b', bucket: BUCKET, credentials: TEST_GCE_KEY }] });
    sessions = new GceSessions(accounts, { computeEndpoint: fake.endpoint, storageEndpoint, authClient: new PassThroughClient() });
    c = await sessions.forAccount('gce-test');
    await c.storage.createBucket(BUCKET);
  });
  after(async () => {
    await sessions?.close();
    await fake?.stop();
    await gcs?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Inserts from gs://BUCKET/object and waits for the operation to be DONE. */
  const importImage = async (name: string, object: string) => {
    const [started] = await c.images.insert({
      project: c.project,
      requestId: randomUUID(),
      imageResource: { name, rawDisk: { source: `https://storage.googleapis.com/${BUCKET}/${object}` } },
    });
    let op = started.latestResponse as Operation;
    while (op.status !== 'DONE') [op] = await c.globalOperations.wait({ project: c.project, operation: op.name! });
    return op;
  };
  const refusal = (op: Operation) => {
    assert.equal(op.error?.errors?.[0]?.code, 'INVALID_FIELD_VALUE');
    assert.equal(op.httpErrorStatusCode, 400);
    return op.error?.errors?.[0]?.message ?? '';
  };

  test('a tar.gz of a sparse 1 GiB disk.raw makes a READY image of 1 GB with the archive size', async () => {
    const disk = join(dir, 'good');
    await mkdir(disk);
    await run('truncate', ['-s', '1G', join(disk, 'disk.raw')]);
    const archiveSize = await upload('good.tar.gz', disk, 'disk.raw', '--format=oldgnu -S');
    assert.ok(archiveSize < 1024 * 1024, 'the sparse disk compresses to almost nothing');
    const op = await importImage('imported', 'good.tar.gz');
    assert.equal(op.error, undefined);
    const [image] = await c.images.get({ project: c.project, image: 'imported' });
    assert.equal(image.status, 'READY');
    assert.equal(String(image.diskSizeGb), '1');
    assert.equal(String(image.archiveSizeBytes), String(archiveSize));
  });

  test('a missing object ends the operation with INVALID_FIELD_VALUE and leaves no image', async () => {
    const op = await importImage('missing', 'no-such-object.tar.gz');
    assert.match(refusal(op), /rawDisk\.source.*does not exist/);
    const [images] = await c.images.list({ project: c.project, filter: 'name = "missing"' });
    assert.deepEqual(images, []);
  });

  test('a disk not named disk.raw is refused with the name it had', async () => {
    const disk = join(dir, 'misnamed');
    await mkdir(disk);
    await run('truncate', ['-s', '1G', join(disk, 'root.img')]);
    await upload('misnamed.tar.gz', disk, 'root.img', '--format=gnu -S');
    const op = await importImage('misnamed', 'misnamed.tar.gz');
    assert.match(refusal(op), /was named 'root\.img'\. It should be named 'disk\.raw'/);
  });

  test('a disk.raw that is not a whole number of GiB is refused', async () => {
    const disk = join(dir, 'small');
    await mkdir(disk);
    await writeFile(join(disk, 'disk.raw'), randomBytes(1024 * 1024));
    await upload('small.tar.gz', disk, 'disk.raw', '--format=gnu');
    const op = await importImage('small', 'small.tar.gz');
    assert.match(refusal(op), /1048576 bytes.*multiple of 1 GiB/);
  });

  test('a POSIX tar is refused, as GCE takes only GNU and OLDGNU', async () => {
    const disk = join(dir, 'posix');
    await mkdir(disk);
    await run('truncate', ['-s', '1G', join(disk, 'disk.raw')]);
    await upload('posix.tar.gz', disk, 'disk.raw', '--format=posix -S');
    const op = await importImage('posix', 'posix.tar.gz');
    assert.match(refusal(op), /Supported formats are: GNU and OLDGNU/);
  });

  test('an object that is not gzip is not a supported file', async () => {
    await c.storage.bucket(BUCKET).file('disk.vmdk').save(Buffer.from('KDMV not a tarball'), { resumable: false });
    const op = await importImage('vmdk', 'disk.vmdk');
    assert.match(refusal(op), /not a supported file/);
  });
});
