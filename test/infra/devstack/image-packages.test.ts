import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDpkgStatus } from '../../../infra/devstack/image-packages.js';

const status = `Package: openssh-server
Status: install ok installed
Architecture: amd64
Version: 1:9.2p1-2+deb12u3
Description: secure shell (SSH) server

Package: removed-thing
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: cloud-init
Status: install ok installed
Architecture: all
Version: 22.4.2-1+deb12u1

Package: zlib-native
Status: install ok installed
Version: 1.2.13
`;

describe('dpkg status → build manifest', () => {
  it('lists installed packages only, splitting the Debian version into version and release without the epoch', () => {
    assert.deepEqual(parseDpkgStatus(status), [
      { name: 'cloud-init', version: '22.4.2', release: '1+deb12u1', arch: 'all' },
      { name: 'openssh-server', version: '9.2p1', release: '2+deb12u3', arch: 'amd64' },
      { name: 'zlib-native', version: '1.2.13', release: '0' },
    ]);
  });
});
