import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { resolveImageSource } from '../../../../activities/common/download/resolve-source.js';
import {
  publishBuild,
  startBuildServer,
  type BuildServer,
  type PublishBuildOptions,
} from '../../../../infra/devstack/build-service.js';
import { freePort } from '../../../../infra/devstack/free-port.js';
import { testSourceInput } from '../../../support/build-sources.js';
import { tempDir } from '../../../support/stack.js';

const root = tempDir('resolve-builds');
const disk = join(tempDir('resolve-disk'), 'disk.raw');
const diskBytes = randomBytes(64 * 1024);
let server: BuildServer;
let directoryCount = 0;

before(async () => {
  await writeFile(disk, diskBytes);
  server = await startBuildServer({ root });
});
after(() => server.stop());

/** A fresh build-service directory for one test, and a way to publish builds of `img` into it. */
function directory() {
  const name = `dir${++directoryCount}`;
  const dir = join(root, name);
  return {
    url: `${server.url}${name}/`,
    path: dir,
    publish: (version: string, release: string, options: Partial<PublishBuildOptions> = {}) =>
      publishBuild(dir, { image: 'img', arch: 'x86_64', version, release, disk, ...options }),
  };
}

const input = testSourceInput;

/** Asserts a non-retryable ApplicationFailure of `type` whose message matches every pattern. */
async function rejectsWith(
  promise: Promise<unknown>,
  type: string,
  ...patterns: RegExp[]
): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => assert.fail(`expected ${type}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplicationFailure, `an ApplicationFailure, not ${String(error)}`);
  assert.equal(error.type, type);
  assert.equal(error.nonRetryable, true);
  for (const pattern of patterns) assert.match(error.message, pattern);
  return error;
}

/** A clock that only moves when the resolver sleeps. */
function fakeClock(onSleep: (sleptMs: number) => Promise<void> | void = () => undefined) {
  const clock = { now: 1_000_000, sleeps: [] as number[], heartbeats: [] as unknown[] };
  return {
    clock,
    deps: {
      now: () => clock.now,
      heartbeat: (details?: unknown) => void clock.heartbeats.push(details),
      sleep: async (ms: number) => {
        clock.sleeps.push(ms);
        clock.now += ms;
        await onSleep(clock.sleeps.reduce((a, b) => a + b, 0));
      },
    },
  };
}

describe('download source resolution', () => {
  it('picks the newest build by rpm order of version, then release, with its checksum and manifest', async () => {
    const d = directory();
    await d.publish('1.0.9', '1.9');
    await d.publish('1.0.10', '1.2', { compression: 'gz' });
    const newest = await d.publish('1.0.10', '1.10', {
      compression: 'xz',
      packages: [{ name: 'kernel-default', version: '6.4.0', release: '1.1' }],
    });
    await d.publish('1.0.10', '1.10', { arch: 'aarch64' });

    const source = await resolveImageSource(input(d.url.slice(0, -1))); // without the trailing slash
    assert.deepEqual(source, {
      url: `${d.url}${newest.fileName}`,
      fileName: 'img.x86_64-1.0.10-Build1.10.raw.xz',
      sizeBytes: source.sizeBytes,
      compression: 'xz',
      checksum: { algorithm: 'sha256', hex: newest.checksumHex },
      version: '1.0.10',
      release: '1.10',
      packageCount: 1,
      builtAt: source.builtAt,
    });
    assert.ok(source.sizeBytes && source.sizeBytes > 0);
    // The server's Last-Modified, to the second: use_build_time's date.
    assert.ok(Math.abs(Date.parse(source.builtAt!) - Date.now()) < 120_000, source.builtAt);
  });

  it('reads PGP clear-signed and sha512 checksum files', async () => {
    const signed = directory();
    const a = await signed.publish('1.0', '1', { signChecksum: true });
    assert.deepEqual((await resolveImageSource(input(signed.url))).checksum, {
      algorithm: 'sha256',
      hex: a.checksumHex,
    });

    const sha512 = directory();
    const b = await sha512.publish('1.0', '1', { checksum: 'sha512' });
    const source = await resolveImageSource(input(sha512.url));
    assert.deepEqual(source.checksum, { algorithm: 'sha512', hex: b.checksumHex });
    assert.equal(b.checksumHex, createHash('sha512').update(diskBytes).digest('hex'));
  });

  it('resolves a local file:// directory', async () => {
    const d = directory();
    await d.publish('2.0', '3');
    const source = await resolveImageSource(input(pathToFileURL(d.path).href));
    assert.equal(source.url, pathToFileURL(join(d.path, 'img.x86_64-2.0-Build3.raw')).href);
    assert.equal(source.sizeBytes, diskBytes.length);
  });

  it('returns at once when the newest build meets image and package conditions', async () => {
    const d = directory();
    await d.publish('15.6.0', '1.42', {
      packages: [{ name: 'kernel-default', version: '6.4.0', release: '150600.23.1' }],
    });
    const { clock, deps } = fakeClock();
    const source = await resolveImageSource(
      input(d.url, {
        conditions: [
          { release: '1.9' },
          { package_name: 'kernel-default' },
          { package_name: 'kernel-default', version: '6.4', condition: '>' },
        ],
        conditionsWaitSeconds: 600,
      }),
      deps,
    );
    assert.equal(source.release, '1.42');
    assert.deepEqual(clock.sleeps, []);
  });

  it('fails with ConditionsNotMet naming each unmet condition and what was found', async () => {
    const d = directory();
    await d.publish('15.6.0', '1.42', {
      packages: [{ name: 'kernel-default', version: '6.4.0', release: '1.1' }],
    });
    await rejectsWith(
      resolveImageSource(
        input(d.url, {
          conditions: [
            { release: '1.43' },
            { package_name: 'kernel-default', version: '6.5' },
            { package_name: 'cloud-init' },
          ],
        }),
      ),
      'ConditionsNotMet',
      /img\.x86_64-15\.6\.0-Build1\.42\.raw, does not meet the job's conditions \(waited 0s for a newer one\)/,
      /image >= release 1\.43 \(the build is 15\.6\.0-1\.42\)/,
      /package kernel-default >= version 6\.5 \(the image has kernel-default 6\.4\.0-1\.1\)/,
      /package cloud-init present \(the image does not contain cloud-init\)/,
    );
  });

  it('polls while the conditions are unmet and takes the newer build published during the wait', async () => {
    const d = directory();
    await d.publish('1.0', '1', { packages: [{ name: 'kernel-default', version: '6.4.0', release: '1.1' }] });
    const { clock, deps } = fakeClock(async (slept) => {
      if (slept === 60_000)
        await d.publish('1.0', '2', {
          packages: [{ name: 'kernel-default', version: '6.5.0', release: '1.1' }],
        });
    });
    const source = await resolveImageSource(
      input(d.url, {
        conditions: [{ package_name: 'kernel-default', version: '6.5' }],
        conditionsWaitSeconds: 300,
      }),
      deps,
    );
    assert.equal(source.fileName, 'img.x86_64-1.0-Build2.raw');
    assert.equal(
      clock.sleeps.reduce((a, b) => a + b, 0),
      60_000,
      'the listing is polled again after a minute',
    );
    assert.ok(
      clock.heartbeats.length >= 1 && clock.heartbeats.length === clock.sleeps.length,
      'heartbeats while waiting',
    );
    assert.ok(
      clock.sleeps.every((ms) => ms <= 10_000),
      'no sleep longer than the heartbeat interval',
    );
  });

  it('gives up when the wait time has passed, polling no longer than the time left', async () => {
    const d = directory();
    await d.publish('1.0', '1');
    const { clock, deps } = fakeClock();
    await rejectsWith(
      resolveImageSource(input(d.url, { conditions: [{ version: '2.0' }], conditionsWaitSeconds: 90 }), deps),
      'ConditionsNotMet',
      /waited 90s/,
    );
    assert.equal(
      clock.sleeps.reduce((a, b) => a + b, 0),
      90_000,
    );
    const polls = server.requests.filter((r) => r.path === new URL(d.url).pathname);
    assert.equal(polls.length, 3, 'listing fetched at 0 s, 60 s and 90 s');
  });

  it('rejects builds with disallowed packages (glob) or licenses (case-insensitive)', async () => {
    const d = directory();
    await d.publish('1.0', '1', {
      packages: [
        { name: 'busybox-mini', version: '1.36', release: '1', license: 'GPL-2.0' },
        { name: 'kernel-default', version: '6.4', release: '1', license: 'GPL-2.0-only' },
        { name: 'closed-driver', version: '1', release: '1', license: 'Proprietary' },
      ],
    });
    await rejectsWith(
      resolveImageSource(input(d.url, { disallowPackages: ['*-mini'] })),
      'DisallowedContent',
      /busybox-mini matches disallow_packages \*-mini/,
    );
    const error = await rejectsWith(
      resolveImageSource(input(d.url, { disallowLicenses: ['proprietary'] })),
      'DisallowedContent',
      /closed-driver has disallowed license Proprietary/,
    );
    assert.doesNotMatch(error.message, /kernel-default/);
    await resolveImageSource(input(d.url, { disallowPackages: ['kernel'], disallowLicenses: ['GPL-3.0'] }));
  });

  it('fails with ImageSourceNotFound naming the URL, the pattern and the files it saw', async () => {
    const d = directory();
    await d.publish('1.0', '1', { arch: 'aarch64' });
    await rejectsWith(
      resolveImageSource(input(d.url)),
      'ImageSourceNotFound',
      new RegExp(d.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
      /img\.x86_64-VERSION-BuildRELEASE\{\.raw\.xz,\.raw\.gz,\.raw,\.vhdfixed\.xz\}/,
      /img\.aarch64-1\.0-Build1\.raw, img\.aarch64-1\.0-Build1\.raw\.sha256/,
    );
    await rejectsWith(
      resolveImageSource(input(`${server.url}no-such-directory/`)),
      'ImageSourceNotFound',
      /404/,
    );
  });

  it('leaves server errors and network failures retryable', async () => {
    const port = await freePort();
    const failing = createServer((_req, res) => res.writeHead(503).end('busy'));
    await new Promise<void>((resolve) => failing.listen(port, '127.0.0.1', resolve));
    try {
      await assert.rejects(resolveImageSource(input(`http://127.0.0.1:${port}/images/`)), (error: Error) => {
        assert.ok(!(error instanceof ApplicationFailure && error.nonRetryable));
        assert.match(error.message, /503/);
        return true;
      });
    } finally {
      await new Promise((resolve) => failing.close(resolve));
    }
    await assert.rejects(resolveImageSource(input(`http://127.0.0.1:${port}/images/`)), (error: Error) => {
      assert.ok(!(error instanceof ApplicationFailure));
      assert.match(error.message, new RegExp(`GET http://127.0.0.1:${port}/images/ failed: .*ECONNREFUSED`));
      return true;
    });
  });
});
