// The preflight of a cloud without checks of its own (GCE, against our Compute Engine fake):
// its image lookups are the credentials check, a refused lookup is one problem naming the
// account and the fix.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runPreflight } from '../../../activities/common/preflight.js';
import { startGceEmulator, type GceEmulator } from '../../support/gce-emulator.js';
import type { PreflightInput } from '../../../activities/provider.js';

describe('preflight of GCE (credentials and names through its lookups)', () => {
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

  it('reports an account the workers do not have', async () => {
    const [unknown] = await runPreflight(g.provider(), input('no-such-account'));
    assert.equal(unknown!.check, 'credentials');
    assert.match(unknown!.message, /no GCE account named "no-such-account"/);
  });
});
