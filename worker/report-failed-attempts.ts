import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Client } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import { attemptFailedSignal, type AttemptFailed } from '../workflows/queries.js';

/** The workflow type whose activities report their retried failures (it handles the signal). */
const RELEASE_WORKFLOW = 'releaseImage';
const MAX_MESSAGE = 300;

/**
 * An activity interceptor: when an attempt of a release's activity fails and Temporal will
 * retry it, the release is told (a signal), so its step table shows the attempt count and
 * the reason while the retries go on. Best effort: the retry never waits on, or fails
 * because of, the report.
 */
export function reportFailedAttempts(client: Client): ActivityInterceptorsFactory {
  return (ctx: Context) => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (error) {
          const report = retriedFailure(ctx, error);
          const run = ctx.info.workflowExecution;
          if (report && run) {
            await client.workflow
              .getHandle(run.workflowId, run.runId)
              .signal(attemptFailedSignal, report)
              .catch(() => undefined);
          }
          throw error;
        }
      },
    },
  });
}

/** The report for a failure Temporal will retry; undefined when this attempt is the last. */
export function retriedFailure(ctx: Pick<Context, 'info'>, error: unknown): AttemptFailed | undefined {
  const { info } = ctx;
  if (!info.inWorkflow || info.workflowType !== RELEASE_WORKFLOW) return undefined;
  if (error instanceof CancelledFailure) return undefined;
  const policy = info.retryPolicy;
  if (error instanceof ApplicationFailure && (error.nonRetryable || policy?.nonRetryableErrorTypes?.includes(error.type ?? '')))
    return undefined;
  const maximumAttempts = policy?.maximumAttempts || undefined;
  if (maximumAttempts !== undefined && info.attempt >= maximumAttempts) return undefined;
  const message = error instanceof Error ? error.message : String(error);
  return {
    activityType: info.activityType,
    attempt: info.attempt,
    ...(maximumAttempts !== undefined && { maximumAttempts }),
    message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message,
  };
}
