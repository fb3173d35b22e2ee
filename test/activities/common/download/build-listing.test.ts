import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildStem,
  listedFileNames,
  matchingBuilds,
} from '../../../../activities/common/download/build-listing.js';

const DIR = 'https://download.example.org/repositories/Cloud:/Images/images/';

describe('build-service directory listing', () => {
  it('reads the files of an Apache/OBS index page and drops links that leave the directory', () => {
    const html = `<html><body><h1>Index of /images/</h1><pre>
<a href="?C=N;O=D">Name</a>
<a href="../">Parent Directory</a>
<a href="boot/">boot/</a>
<a href="img.x86_64-1.0-Build1.1.raw.xz">img.x86_64-1.0-Build1.1.raw.xz</a>
<a href='./img.x86_64-1.0-Build1.1.raw.xz.sha256'>sha</a>
<a href="/repositories/Cloud:/Images/images/img.x86_64-1.0-Build1.1.packages">packages</a>
<a href="other%20file.txt">other file.txt</a>
<a href="a&amp;b.txt">a&amp;b.txt</a>
<a href="https://elsewhere.example.org/img.x86_64-9.9-Build9.9.raw.xz">mirror</a>
</pre></body></html>`;
    assert.deepEqual(listedFileNames(html, DIR), [
      'img.x86_64-1.0-Build1.1.raw.xz',
      'img.x86_64-1.0-Build1.1.raw.xz.sha256',
      'img.x86_64-1.0-Build1.1.packages',
      'other file.txt',
      'a&b.txt',
    ]);
  });

  it('reads a plain listing (a local directory) one name per line', () => {
    assert.deepEqual(listedFileNames('a.raw\nb.raw\n\n', 'file:///srv/images/'), ['a.raw', 'b.raw']);
  });

  it('reads an empty index page as no files', () => {
    assert.deepEqual(listedFileNames('<html><body><h1>Index of /</h1></body></html>', DIR), []);
  });
});

describe('build selection', () => {
  it('picks the newest build of the image and architecture in rpm order of version, then release', () => {
    const names = [
      'img.x86_64-1.0.9-Build1.9.raw',
      'img.x86_64-1.0.10-Build1.2.raw.xz',
      'img.x86_64-1.0.10-Build1.10.raw.gz',
      'img.x86_64-1.0.10-Build1.10.raw.gz.sha256',
      'img.x86_64-1.0.10-Build1.10.packages',
      'img.aarch64-9.0.0-Build1.1.raw',
      'img-other.x86_64-9.0.0-Build1.1.raw',
      'img.x86_64-9.0.0-Build1.1.qcow2',
    ];
    const builds = matchingBuilds(names, 'img', 'x86_64');
    assert.deepEqual(
      builds.map((b) => [b.version, b.release, b.compression]),
      [
        ['1.0.10', '1.10', 'gz'],
        ['1.0.10', '1.2', 'xz'],
        ['1.0.9', '1.9', 'none'],
      ],
    );
  });

  it('takes image names literally (dots and dashes are not patterns)', () => {
    const names = [
      'SLES15-SP6-EC2-HVM.x86_64-15.6.0-Build1.42.raw.xz',
      'SLES15-SP6XEC2-HVM.x86_64-15.6.0-Build9.9.raw.xz',
    ];
    const [newest] = matchingBuilds(names, 'SLES15-SP6-EC2-HVM', 'x86_64');
    assert.equal(newest?.fileName, 'SLES15-SP6-EC2-HVM.x86_64-15.6.0-Build1.42.raw.xz');
    assert.equal(newest && buildStem(newest), 'SLES15-SP6-EC2-HVM.x86_64-15.6.0-Build1.42');
  });

  it('prefers the smaller download when one build is published in several formats', () => {
    const names = [
      'img.x86_64-1.0-Build1.1.raw',
      'img.x86_64-1.0-Build1.1.raw.xz',
      'img.x86_64-1.0-Build1.1.raw.gz',
    ];
    assert.deepEqual(
      matchingBuilds(names, 'img', 'x86_64').map((b) => b.compression),
      ['xz', 'gz', 'none'],
    );
  });

  it('picks the builds of a kiwi profile, which OBS multibuild puts after the version', () => {
    const names = [
      'Leap.x86_64-15.6.0-Azure-Build2.1.raw.xz',
      'Leap.x86_64-15.6.0-EC2-Build3.1.raw.xz',
      'Leap.x86_64-15.6.0-Build4.1.raw.xz',
    ];
    assert.deepEqual(
      matchingBuilds(names, 'Leap', 'x86_64', 'EC2').map((b) => [b.version, b.release]),
      [['15.6.0', '3.1']],
    );
    assert.deepEqual(
      matchingBuilds(names, 'Leap', 'x86_64').map((b) => b.fileName),
      ['Leap.x86_64-15.6.0-Build4.1.raw.xz'],
      'without a profile only the plain builds match',
    );
  });
});
