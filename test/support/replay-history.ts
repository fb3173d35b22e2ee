/**
 * Replays a finished release's real history against today's workflow code and, with
 * IMAGECAST_RECORD_HISTORY_DIR set, keeps it as a fixture for test/workflows/replay.test
 * (NAME.binpb and NAME.workflow-id: child workflow ids derive from the workflow's own).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { DEFAULT_WORKFLOW_BUNDLE } from '../../worker/create-workers.js';
import { tracingSinks } from '../../worker/tracing.js';

/**
 * What a replay worker needs: the bundle the workers run, and the tracing span sink its
 * interceptors call (without it every replay logs "unregistered external sink").
 */
export const REPLAY_OPTIONS = {
  workflowBundle: { codePath: DEFAULT_WORKFLOW_BUNDLE },
  sinks: tracingSinks(undefined),
};

const { temporal } = proto;

export async function replayAndRecord(temporalClient: Client, workflowId: string, name: string): Promise<void> {
  const history = await temporalClient.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory(REPLAY_OPTIONS, history, workflowId);
  const dir = process.env.IMAGECAST_RECORD_HISTORY_DIR;
  if (dir) {
    await writeFile(join(dir, `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
    await writeFile(join(dir, `${name}.workflow-id`), `${workflowId}\n`);
  }
}
