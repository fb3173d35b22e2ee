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

  it('has publishers for file: and sftp:, and says so for other schemes', () => {
    assert.equal(publisherFor('file:///srv/www/image.list'), localPublisher);
    for (const target of ['s3://bucket/image.list', 'gs://bucket/image.list'])
      assert.throws(
        () => publisherFor(target),
        /no publisher for (s3|gs); supported: file:\/\/, sftp:\/\/ \(s3, gcs and azure-blob are not built yet\)/,
      );
    assert.throws(
      () => publisherFor('sftp://www@host/lists/image.list', { uri_match: 'https://x/', uri_replace: 'sftp://www@host/lists/' }),
      /an sftp target needs ssh_private_key_file and ssh_host_key_fingerprint/,
    );
    assert.throws(() => publisherFor('lists/image.list'), /is not a URL/);
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
