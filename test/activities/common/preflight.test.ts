// The preflight of GCE against our Compute Engine fake and fake-gcs-server: its own checks
// (images.list for the credentials, buckets.get for the bucket) and the image lookups; a
// refused call is one problem naming the account and the fix.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runPreflight } from '../../../activities/common/preflight.js';
import { startGceEmulator, type GceEmulator } from '../../support/gce-emulator.js';
import type { PreflightInput } from '../../../activities/provider.js';

describe('preflight of GCE (credentials, bucket, names)', () => {
  let g: GceEmulator;
  before(async () => {
    g = await startGceEmulator('preflight-gce');
  });
  after(async () => {
    await g?.stop();
  });

  const input = (account: string): PreflightInput => ({
    release: { releaseId: 'preflight-gce', releaseToken: 'run-1', cloud: 'gce', account },
    imageName: 'preflight-gce-v1',
    regions: ['us-east1'],
    shareWith: 'all',
  });

  it('finds nothing wrong when the account works and the name is free', async () => {
    assert.deepEqual(await runPreflight(g.provider(), input('gce-pub')), []);
  });

  it("reports a refused lookup once, as the account's credentials, with the fix", async () => {
    g.compute.faults.add({
      method: 'images.get',
      kind: 'http',
      status: 403,
      reason: 'forbidden',
      message: 'Required permission compute.images.get',
      times: 5,
    });
    try {
      const problems = await runPreflight(g.provider(), input('gce-pub'));
      assert.equal(problems.length, 1, JSON.stringify(problems));
      const [p] = problems;
      assert.equal(p!.check, 'credentials');
      assert.equal(p!.account, 'gce-pub');
      assert.match(p!.message, /cannot look up images: .*compute\.images\.get/);
      assert.match(p!.fix, /imagecast account gce show --name gce-pub/);
    } finally {
      g.compute.faults.clear();
    }
  });

  it("reports a refused images.list as the account's credentials, and looks nothing else up", async () => {
    g.compute.faults.add({ method: 'images.list', kind: 'http', status: 403, reason: 'forbidden', message: 'Required permission compute.images.list', times: 5 });
    try {
      const gets = g.calls('images.get').length;
      const problems = await runPreflight(g.provider(), input('gce-pub'));
      assert.deepEqual(problems.map((p) => p.check), ['credentials'], JSON.stringify(problems));
      assert.match(problems[0]!.message, /cannot read images in project imagecast-publish: .*compute\.images\.list/);
      assert.equal(g.calls('images.get').length, gets, 'no name lookup without working credentials');
    } finally {
      g.compute.faults.clear();
    }
  });

  it("reports the job's bucket when it does not exist, and still checks the name", async () => {
    const options = { cloud: 'gce', bucket: 'missing-bucket' } as unknown as PreflightInput['options'];
    const problems = await runPreflight(g.provider(), { ...input('gce-pub'), options });
    assert.deepEqual(problems.map((p) => p.check), ['bucket'], JSON.stringify(problems));
    assert.match(problems[0]!.message, /gs:\/\/missing-bucket does not exist/);
    assert.ok(g.calls('images.get').some((c) => c.path.endsWith('/preflight-gce-v1')), 'the name was looked up');
  });

  it('reports an account the workers do not have', async () => {
    const [unknown] = await runPreflight(g.provider(), input('no-such-account'));
    assert.equal(unknown!.check, 'credentials');
    assert.match(unknown!.message, /no GCE account named "no-such-account"/);
  });
});
