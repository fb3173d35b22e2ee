import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  localPublisher,
  publisherFor,
  uploadTarget,
} from '../../../../activities/common/imagelist/publish-target.js';
import { objectTarget } from '../../../../activities/common/imagelist/publishers/object-store.js';
import { imageListPublishMappingSchema } from '../../../../schemas/imagelist-publish.js';
import { tempDir } from '../../../support/stack.js';

describe('image list upload targets (uri_match / uri_replace)', () => {
  const mappings = [
    { uri_match: 'https://lists.example.org/', uri_replace: 'file:///srv/www/lists/' },
    { uri_match: 'https://lists.example.org/egi/', uri_replace: 'file:///srv/egi/' },
  ];

  it('replaces the longest matching prefix of hv:uri', () => {
    assert.equal(
      uploadTarget('https://lists.example.org/a/image.list', mappings, 'c.json'),
      'file:///srv/www/lists/a/image.list',
    );
    assert.equal(
      uploadTarget('https://lists.example.org/egi/image.list', mappings, 'c.json'),
      'file:///srv/egi/image.list',
    );
  });

  it('names the config file and an example mapping when none matches', () => {
    assert.throws(
      () => uploadTarget('https://other.example.org/x/image.list', mappings, '/etc/imagecast.json'),
      /no upload target for hv:uri https:\/\/other.example.org\/x\/image.list: no "imagelist_publish" mapping in \/etc\/imagecast.json .*"uri_match": "https:\/\/other.example.org\/"/,
    );
  });

  it('has publishers for file:, sftp: and the object stores, and says so for other schemes', () => {
    assert.equal(publisherFor('file:///srv/www/image.list'), localPublisher);
    assert.throws(
      () => publisherFor('ftp://host/image.list'),
      /no publisher for ftp; supported: file:\/\/, sftp:\/\/, s3:\/\/, gs:\/\/, azure-blob:\/\//,
    );
    for (const target of ['s3://bucket/image.list', 'gs://bucket/image.list', 'azure-blob://sa/lists/image.list'])
      assert.throws(
        () => publisherFor(target, { uri_match: 'https://x/', uri_replace: target }),
        /target needs "account" \(a stored (ec2|gce|azure) account\) in its imagelist_publish mapping/,
      );
    assert.throws(
      () => publisherFor('sftp://www@host/lists/image.list', { uri_match: 'https://x/', uri_replace: 'sftp://www@host/lists/' }),
      /an sftp target needs ssh_private_key_file and ssh_host_key_fingerprint/,
    );
    assert.throws(() => publisherFor('lists/image.list'), /is not a URL/);
  });

  it('reads object-store targets as bucket and key (Azure: storage account and container), refusing folders', () => {
    assert.deepEqual(objectTarget('s3://lists/egi/image.list'), { scheme: 's3', bucket: 'lists', key: 'egi/image.list' });
    assert.deepEqual(objectTarget('gs://lists/image%20x.list'), { scheme: 'gs', bucket: 'lists', key: 'image x.list' });
    assert.deepEqual(objectTarget('azure-blob://sa/web/egi/image.list'), {
      scheme: 'azure-blob',
      bucket: 'sa/web',
      key: 'egi/image.list',
    });
    assert.throws(() => objectTarget('s3://lists/egi/'), /names a folder, not an object: expected s3:\/\/BUCKET\/KEY/);
    assert.throws(() => objectTarget('azure-blob://sa/image.list'), /expected azure-blob:\/\/STORAGE_ACCOUNT\/CONTAINER\/NAME/);
    const noAccount = imageListPublishMappingSchema.safeParse({ uri_match: 'https://x/', uri_replace: 'gs://b/' });
    assert.equal(noAccount.success, false);
    assert.match(noAccount.error!.issues[0]!.message, /required with a gs:\/\/ uri_replace .* the stored gce account/);
  });

  it('local: writes the whole list, making the directories, replacing what was there, leaving no partial file', async () => {
    const dir = tempDir('publish-target');
    const target = pathToFileURL(join(dir, 'a', 'b', 'image.list')).href;
    await localPublisher.put(target, Buffer.from('first'), 'text/plain');
    await localPublisher.put(target, Buffer.from('second'), 'text/plain');
    assert.equal(readFileSync(join(dir, 'a', 'b', 'image.list'), 'utf8'), 'second');
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['image.list']);
    assert.equal(statSync(join(dir, 'a', 'b', 'image.list')).mode & 0o777, 0o644 & ~process.umask());
    await assert.rejects(
      localPublisher.put(`${pathToFileURL(dir).href}/`, Buffer.from('x'), 'text/plain'),
      /names a directory/,
    );
  });
});
