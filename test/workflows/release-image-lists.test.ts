// Releases that keep signed image lists (job field image_lists), all real: local cloud, the
// Temporal dev server, PostgreSQL, the openssl CLI signing with a test CA's endorser, and the
// lists published over sftp to a real OpenSSH server. Subscribers' checks: openssl smime
// -verify and our verify, with the image file's size and sha512.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';
import { makeTestCa, opensslRun, type IssuedCert, type TestCa } from '../support/openssl-ca.js';
import { tempDir } from '../support/stack.js';
import { replayAndRecord } from '../support/replay-history.js';
import {
  addImageList,
  operatorListStore,
  testMasterKeys,
  workerImageListDeps,
} from '../support/image-list-setup.js';
import { startSshd, type Sshd } from '../../infra/devstack/sshd.js';
import { ephemeralKeyPair } from '../../activities/common/image-tests/ssh-keys.js';
import type { ImageListStore } from '../../activities/common/imagelist/list-store.js';
import { verifyImageList } from '../../activities/common/imagelist/verify.js';
import { imageListPublishMappingSchema } from '../../schemas/imagelist-publish.js';

const DN = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Release Endorser/emailAddress=endorser@example.org';
const LIST_URI = 'https://lists.example.org/imagecast/image.list';
const TITLE = 'Imagecast release images';
const BUCKET = 'release-lists-raw';
// Served from the bucket too: published through the `images` mapping (s3://, account test-aws).
const S3_TITLE = 'Imagecast images in S3';
const S3_LIST_URI = 'https://images.example.org/lists/image.list';

type HvImage = Record<string, unknown>;

describe('releases keep signed image lists (local cloud, sftp to a real sshd)', () => {
  const dir = tempDir('release-lists');
  const www = join(dir, 'www');
  const sshKeys = ephemeralKeyPair();
  const masterKey = randomBytes(32).toString('base64');
  let sshd: Sshd;
  let aws: AwsEmulator;
  let ca: TestCa;
  let endorser: IssuedCert;
  let h: ReleaseHarness;
  let lists: ImageListStore;
  let listId: string;
  let s3ListId: string;

  before(async () => {
    sshd = await startSshd(tempDir('release-lists-sshd'), sshKeys.publicKey);
    const keyFile = join(dir, 'publish_ed25519');
    writeFileSync(keyFile, sshKeys.privateKey, { mode: 0o600 });
    const mapping = imageListPublishMappingSchema.parse({
      uri_match: 'https://lists.example.org/',
      uri_replace: `sftp://${sshd.user}@${sshd.host}:${sshd.port}${www}/`,
      ssh_private_key_file: keyFile,
      ssh_host_key_fingerprint: sshd.hostKeyFingerprint,
    });
    // Raw uploads go to a bucket subscribers reach at https://images.example.org/ (the mapping read backwards).
    aws = await startAwsEmulator('release-lists');
    await aws.createBucket(BUCKET);
    const images = imageListPublishMappingSchema.parse({
      uri_match: 'https://images.example.org/',
      uri_replace: `s3://${BUCKET}/`,
      account: 'test-aws',
    });
    ca = makeTestCa(join(dir, 'ca'));
    endorser = ca.issue('endorser', DN);
    const master = testMasterKeys(masterKey);
    // The EC2 provider also writes the lists mapped to s3:// (the worker's object writers).
    const ec2 = aws.provider();
    h = await startReleaseHarness('release-lists', {
      diskMiB: 4,
      queues: ['workflows', 'local', 'ec2'],
      accounts: aws.accounts,
      providers: { ec2 },
      imageLists: (pool) =>
        workerImageListDeps(pool, master, [mapping, images], {
          objectWriters: () => (input) => ec2.openObjectWriter!(input),
        }),
    });
    lists = await operatorListStore(h.pool, master, endorser);
    listId = await addImageList(lists, DN, {
      title: TITLE,
      description: 'Images released by Imagecast',
      uri: LIST_URI,
    });
    s3ListId = await addImageList(lists, DN, {
      title: S3_TITLE,
      description: 'Images released by Imagecast, listed in S3',
      uri: S3_LIST_URI,
    });
  });
  after(async () => {
    await h?.stop();
    await sshd?.stop();
    await aws?.stop();
  });

  const job = (overrides: Record<string, unknown> = {}) =>
    h.job({ additional_regions: ['region-2'], ...overrides });

  /** The published list as a subscriber gets it: verified by openssl and by our verify (with the image files in `imagesDir`). */
  async function fetchVerified(previousVersion?: string, imagesDir?: string) {
    const signed = readFileSync(join(www, 'imagecast', 'image.list'));
    const content = opensslRun([
      'smime',
      '-verify',
      '-in',
      join(www, 'imagecast', 'image.list'),
      '-CAfile',
      ca.certPath,
    ]);
    const verified = await verifyImageList(signed, {
      caFile: ca.certPath,
      identifier: listId,
      now: new Date(),
      ...(previousVersion && { previousVersion }),
      ...(imagesDir && { imagesDir }),
    });
    assert.deepEqual(verified.problems, [], 'our verify accepts it');
    const body = JSON.parse(content)['hv:imagelist'] as Record<string, unknown>;
    const images = (body['hv:images'] as Array<{ 'hv:image': HvImage }>).map((i) => i['hv:image']);
    return { version: String(body['hv:version']), images };
  }

  function servedFile(fileName: string) {
    const bytes = readFileSync(join(h.buildRoot, fileName));
    return { size: bytes.length, sha512: createHash('sha512').update(bytes).digest('hex') };
  }

  it('refuses a job naming a list that is not stored before anything is uploaded, naming the field and the list', async () => {
    await h.publish('0');
    const { releaseId } = await h.client.startRelease(job({ image_lists: [TITLE, 'No Such List'] }));
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'failed');
    assert.match(done.error ?? '', /image_lists: no stored image list "No Such List"/);
    assert.notEqual(done.steps.find((s) => s.name === 'create')!.state, 'succeeded', 'nothing created');
    assert.deepEqual(
      h.allCloudFiles().filter((f) => f.endsWith('.raw')),
      [],
      'nothing uploaded',
    );
  });

  it('publishes the image in a signed list, replaces its entry on the next release, and drops it when deprecated', async () => {
    const first = await h.publish('1');
    const one = await h.client.startRelease(job({ image_lists: [TITLE] }));
    const done = await h.client.waitForRelease(one.releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.match(
      done.steps.find((s) => s.name === 'publish')!.detail!,
      new RegExp(`image lists: ${TITLE} 0\\.0\\.1 \\(1 image\\(s\\)\\)`),
    );
    assert.deepEqual(
      done.imageLists?.map((l) => [l.identifier, l.version, l.uri]),
      [[listId, '0.0.1', LIST_URI]],
    );

    const v1 = await fetchVerified(undefined, h.buildRoot);
    assert.equal(v1.version, '0.0.1');
    assert.equal(v1.images.length, 1);
    const entry = v1.images[0]!;
    const file1 = servedFile(first.fileName);
    assert.equal(entry['hv:size'], file1.size, 'hv:size is the file as served');
    assert.equal(entry['sl:checksum:sha512'], file1.sha512, 'sha512 of the file as served');
    assert.equal(entry['hv:uri'], `${h.buildServer.url.replace(/\/$/, '')}/${first.fileName}`);
    assert.equal(entry['dc:title'], done.imageName);
    assert.equal(entry['hv:version'], '1');
    await replayAndRecord(h.client.temporal, one.releaseId, 'release-local-image-lists');

    // The next release of the line: the same entry (dc:identifier), a new version and file.
    // Build 2 differs from build 1 (its last sector), so its checksum does too.
    const disk = readFileSync(h.diskPath);
    randomBytes(512).copy(disk, disk.length - 512);
    writeFileSync(h.diskPath, disk);
    const second = await h.publish('2');
    const two = await h.client.startRelease(job({ image_lists: [listId] }));
    const next = await h.client.waitForRelease(two.releaseId, { pollIntervalMs: 200 });
    assert.equal(next.state, 'succeeded', next.error);
    assert.equal(next.deprecated.length, 2);
    const v2 = await fetchVerified('0.0.1', h.buildRoot);
    assert.equal(v2.version, '0.0.2');
    assert.equal(v2.images.length, 1, 'the previous image is no longer listed');
    const file2 = servedFile(second.fileName);
    assert.equal(v2.images[0]!['dc:identifier'], entry['dc:identifier'], 'the same image, a new version');
    assert.equal(v2.images[0]!['hv:version'], '2');
    assert.equal(v2.images[0]!['sl:checksum:sha512'], file2.sha512);
    assert.equal(v2.images[0]!['hv:size'], file2.size);
    assert.notEqual(file2.sha512, file1.sha512);

    // A release of the line that keeps no list deprecates the listed image: its entry leaves, the list (now empty) is published.
    await h.publish('3');
    const three = await h.client.startRelease(job());
    const last = await h.client.waitForRelease(three.releaseId, { pollIntervalMs: 200 });
    assert.equal(last.state, 'succeeded', last.error);
    assert.match(
      last.steps.find((s) => s.name === 'deprecate')!.detail!,
      new RegExp(`image lists: ${TITLE} 0\\.0\\.3 \\(0 image\\(s\\)\\)`),
    );
    const v3 = await fetchVerified('0.0.2');
    assert.equal(v3.version, '0.0.3');
    assert.deepEqual(v3.images, []);
    assert.deepEqual((await lists.get(listId)).images, [], 'and in the store');
    const status = JSON.stringify([done, next, last]);
    assert.ok(!status.includes('PRIVATE KEY') && !status.includes(masterKey), 'no key in any status');
  });

  it('a retirement schedule that deprecates a listed image takes it out of the list', async () => {
    await h.publish('4');
    const listed = await h.client.startRelease(job({ image_lists: [TITLE] }));
    assert.equal(
      (await h.client.waitForRelease(listed.releaseId, { pollIntervalMs: 200 })).state,
      'succeeded',
    );
    const before = await fetchVerified('0.0.3');
    assert.equal(before.images.length, 1);
    // A newer release that stops after publish leaves the listed one active, for the schedule to retire.
    await h.publish('5');
    const newer = await h.client.startRelease(job({ last_service: 'publish' }));
    assert.equal(
      (await h.client.waitForRelease(newer.releaseId, { pollIntervalMs: 200 })).state,
      'succeeded',
    );
    assert.equal(
      (await fetchVerified()).version,
      before.version,
      'publishing without image_lists leaves the list',
    );

    const policy = { cloud: 'local', account: 'test', image_line: String(job().cloud_image_name), keep: 1 };
    await h.client.schedules.create(policy, { every: '1d', scheduleId: 'retire-listed' });
    const retired = await h.client.schedules.trigger('retire-listed');
    assert.equal(retired.deprecated.length, 2);
    assert.deepEqual(
      retired.imageLists?.map((l) => [l.identifier, l.images]),
      [[listId, 0]],
    );
    const after = await fetchVerified(before.version);
    assert.deepEqual(after.images, []);
    await h.client.schedules.delete('retire-listed');
  });

  it("with a raw image upload, lists the uploaded object at its public URL, with the upload stream's sha512 and size", async () => {
    const { fileName } = await h.publish('6');
    const { releaseId } = await h.client.startRelease(
      job({
        image_lists: [TITLE, S3_TITLE],
        raw_image_upload_type: 's3bucket',
        raw_image_upload_location: `${BUCKET}/images/`,
        raw_image_upload_account: 'test-aws',
      }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.equal(done.rawUpload?.image.url, `s3://${BUCKET}/images/${done.imageName}.raw`);
    const { images } = await fetchVerified();
    assert.equal(images.length, 1);
    const file = servedFile(fileName);
    assert.equal(images[0]!['hv:uri'], `https://images.example.org/images/${done.imageName}.raw`);
    assert.equal(images[0]!['hv:size'], file.size);
    assert.equal(images[0]!['sl:checksum:sha512'], file.sha512);

    // The second list went to S3 (moto): signed, verified, carrying the same entry.
    const s3 = aws.s3();
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'lists/image.list' }));
    const signed = Buffer.from(await object.Body!.transformToByteArray());
    s3.destroy();
    const s3File = join(dir, 's3-image.list');
    writeFileSync(s3File, signed);
    const content = opensslRun(['smime', '-verify', '-in', s3File, '-CAfile', ca.certPath]);
    const verified = await verifyImageList(signed, {
      caFile: ca.certPath,
      identifier: s3ListId,
      now: new Date(),
    });
    assert.deepEqual(verified.problems, [], 'our verify accepts the list in S3');
    const s3Images = (JSON.parse(content)['hv:imagelist']['hv:images'] as Array<{ 'hv:image': HvImage }>).map(
      (i) => i['hv:image'],
    );
    assert.deepEqual(
      s3Images.map((i) => [i['hv:uri'], i['hv:size'], i['sl:checksum:sha512']]),
      [[images[0]!['hv:uri'], file.size, file.sha512]],
    );
  });
});
