// Rolling out a new worker build with Worker Deployment Versioning: a release started on build
// v1 (here: blocked, waiting for a decision) stays on v1 after v2 becomes current, and new
// releases go to v2. Two worker binaries (processes), the real dev server and its CLI's
// `worker deployment set-current-version`, as docs/operations.md tells an operator to do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { temporalBinary } from '../../infra/devstack/temporal-dev-server.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { tempDir } from '../support/stack.js';

const run = promisify(execFile);

describe('worker deployment versioning (PINNED releases)', () => {
  let h: ReleaseHarness;
  let deploymentName: string;
  const logs = tempDir('versioning-logs');
  const workers: ManagedProcess[] = [];
  const closed = () => join(h.localDataDir, 'test', 'region-4', 'CLOSED');

  const startBuild = (buildId: string) => {
    const worker = startWorkerProcess(h, 'workflows,local', join(logs, `${buildId}.log`), {
      IMAGECAST_LOCAL_DATA_DIR: h.localDataDir,
      IMAGECAST_WORKER_DEPLOYMENT_NAME: deploymentName,
      IMAGECAST_WORKER_BUILD_ID: buildId,
    });
    workers.push(worker);
    return worker;
  };

  /** What an operator runs; retried until the new build's workers have registered the version. */
  async function setCurrentVersion(buildId: string): Promise<void> {
    const args = [
      'worker',
      'deployment',
      'set-current-version',
      '--address',
      h.temporalAddress,
      '--namespace',
      'default',
    ];
    args.push('--deployment-name', deploymentName, '--build-id', buildId, '--yes');
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await run(temporalBinary(), args);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  const versionOf = async (releaseId: string) => {
    const { raw } = await h.client.temporal.workflow.getHandle(releaseId).describe();
    const info = raw.workflowExecutionInfo?.versioningInfo;
    return { buildId: info?.deploymentVersion?.buildId, behavior: String(info?.behavior) };
  };
  const taskIdentities = async (releaseId: string) => {
    const history = await h.client.temporal.workflow.getHandle(releaseId).fetchHistory();
    return new Set(
      (history.events ?? []).map((e) => e.workflowTaskStartedEventAttributes?.identity).filter(Boolean),
    );
  };

  before(async () => {
    h = await startReleaseHarness('versioning', { queues: [] });
    deploymentName = `${h.queuePrefix}deployment`.replace(/[^A-Za-z0-9_-]/g, '-');
    await h.publish('1');
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await h?.stop();
  });

  it('keeps a release started on v1 on v1 after v2 becomes current; new releases run on v2', async () => {
    const v1 = startBuild('v1');
    await setCurrentVersion('v1');
    mkdirSync(join(closed(), '..'), { recursive: true });
    writeFileSync(closed(), 'image quota reached');
    const { releaseId: old } = await h.client.startRelease(
      h.job({ cloud_image_name: 'pinned-v{date}-b{release}' }),
    );
    assert.equal((await h.client.waitForRelease(old, { pollIntervalMs: 200 })).state, 'blocked');

    const v2 = startBuild('v2');
    await setCurrentVersion('v2');
    const { releaseId: fresh } = await h.client.startRelease(
      h.job({ cloud_image_name: 'current-v{date}-b{release}', additional_regions: ['region-2'] }),
    );
    const freshDone = await h.client.waitForRelease(fresh, { pollIntervalMs: 200 });
    assert.equal(freshDone.state, 'succeeded', freshDone.error);

    rmSync(closed());
    await h.client.resumeRelease(old, { by: 'operator' });
    const oldDone = await h.client.waitForRelease(old, { pollIntervalMs: 200 });
    assert.equal(oldDone.state, 'succeeded', oldDone.error);

    assert.deepEqual(
      await versionOf(old),
      { buildId: 'v1', behavior: '1' },
      'pinned (VERSIONING_BEHAVIOR_PINNED = 1) to v1',
    );
    assert.deepEqual(await versionOf(fresh), { buildId: 'v2', behavior: '1' });
    const byV1 = [...(await taskIdentities(old))];
    const byV2 = [...(await taskIdentities(fresh))];
    assert.ok(
      byV1.every((id) => id?.startsWith(`${v1.child.pid}@`)),
      `every workflow task of the old release on v1's worker: ${byV1.join(', ')}`,
    );
    assert.ok(
      byV2.every((id) => id?.startsWith(`${v2.child.pid}@`)),
      `every workflow task of the new release on v2's worker: ${byV2.join(', ')}`,
    );
  });
});
