// The test step: the job's tests on an instance of the new image (split out of
// release-steps.ts, unchanged, so recorded histories replay).
import { ApplicationFailure } from '@temporalio/workflow';
import type { ImageRef } from '../activities/provider.js';
import { cloudActivities } from './activity-options.js';
import type { ReleaseSteps } from './release-steps.js';

/** The job's tests on an instance of the new image; a failing test fails the release (the saga removes the image). */
export async function testStep(steps: ReleaseSteps, home: ImageRef): Promise<void> {
  const { plan, release, board } = steps.ctx;
  if (plan.tests.length === 0) return board.skip('test', 'no tests in the job (tests: [])');
  steps.begin('test', `testing ${home.imageId}: ${plan.tests.map((t) => t.name).join(', ')}`);
  const outcome = await cloudActivities(
    steps.ctx.cloudQueue,
    `test ${home.imageId} in ${home.region}`,
  ).test.testImage({
    release,
    image: home,
    tests: plan.tests,
    instanceType: plan.testInstance?.instanceType,
    sshUser: plan.testInstance?.sshUser,
    options: plan.imageOptions,
  });
  board.status.testResults = outcome.results;
  const failed = outcome.results.filter((r) => !r.passed);
  if (failed.length > 0) {
    throw ApplicationFailure.create({
      type: 'ImageTestFailed',
      nonRetryable: true,
      message: `${failed.length} of ${outcome.results.length} image tests failed: ${failed.map((f) => `${f.name}: ${f.error}`).join('; ')}`,
    });
  }
  const skipped = outcome.results.find((r) => r.skipped)?.skipped;
  board.succeed(
    'test',
    skipped
      ? `instance ${outcome.instanceId} launched and removed; SSH tests skipped: ${skipped}`
      : `${outcome.results.length} of ${outcome.results.length} passed on ${outcome.instanceId}${outcome.sshAfterMs === undefined ? '' : ` (SSH ${Math.round(outcome.sshAfterMs / 1000)} s after launch)`}`,
    [outcome.instanceId],
  );
}
