import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import { retriedFailure } from '../../worker/report-failed-attempts.js';

function ctx(info: Record<string, unknown>): Pick<Context, 'info'> {
  return {
    info: {
      inWorkflow: true,
      workflowType: 'releaseImage',
      activityType: 'uploadImage',
      attempt: 2,
      retryPolicy: { maximumAttempts: 10, nonRetryableErrorTypes: ['InvalidJob'] },
      ...info,
    } as unknown as Context['info'],
  };
}

describe('reporting retried activity failures', () => {
  it('reports a failure that Temporal will retry, with the attempt and the reason', () => {
    assert.deepEqual(retriedFailure(ctx({}), new Error('connect ECONNREFUSED 127.0.0.1:9')), {
      activityType: 'uploadImage',
      attempt: 2,
      maximumAttempts: 10,
      message: 'connect ECONNREFUSED 127.0.0.1:9',
    });
    assert.equal(retriedFailure(ctx({ retryPolicy: {} }), new Error('x'))?.maximumAttempts, undefined, 'unlimited attempts');
    assert.equal(retriedFailure(ctx({}), new Error('y'.repeat(1000)))?.message.length, 301, 'long reasons are cut');
  });

  it('says nothing when no retry follows: the last attempt, a non-retryable failure, a cancellation', () => {
    assert.equal(retriedFailure(ctx({ attempt: 10 }), new Error('x')), undefined);
    assert.equal(retriedFailure(ctx({}), ApplicationFailure.nonRetryable('bad', 'Whatever')), undefined);
    assert.equal(retriedFailure(ctx({}), ApplicationFailure.retryable('bad job', 'InvalidJob')), undefined);
    assert.equal(retriedFailure(ctx({}), new CancelledFailure('cancelled')), undefined);
  });

  it('reports only to releases (other workflows have no handler for it)', () => {
    assert.equal(retriedFailure(ctx({ workflowType: 'deprecateImages' }), new Error('x')), undefined);
    assert.equal(retriedFailure(ctx({ inWorkflow: false }), new Error('x')), undefined);
  });
});
