import { setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { StepName } from '../schemas/steps.js';
import { searchAttributeKeys as keys } from '../schemas/search-attributes.js';
import { ReleaseStatusBoard, type ReleaseStatus } from './release-status.js';
import { ReleaseDecisions } from './release-decisions.js';
import { statusQuery } from './queries.js';

/** What a release-like workflow (releaseImage, revokeRelease) works with from its first line. */
export interface StatusBoardSetUp {
  /** The cloud-neutral queue this workflow runs on (`<prefix>workflows`). */
  workflowsQueue: string;
  /** Prepended to a cloud's name for its queue (`<prefix>ec2`). */
  queuePrefix: string;
  board: ReleaseStatusBoard;
  /** A person's decisions on a blocked step (resume, skip, abort), as Updates and Signals. */
  decisions: ReleaseDecisions;
  /** Pushes the board to the search attributes (step, state) and the Web UI's details panel. */
  report: () => void;
}

/**
 * The status board every release-like workflow starts with: its `status` query, its
 * decision handlers and how it reports itself. Only handlers are registered here, so it
 * adds no command to the history (`report` does, each time it is called): histories from
 * before it was shared replay unchanged.
 */
export function setUpStatusBoard(
  identity: Pick<ReleaseStatus, 'cloud' | 'account' | 'imageName'>,
  /** The steps the board shows: a release's by default, or a revoke's. */
  steps?: readonly StepName[],
): StatusBoardSetUp {
  const info = workflowInfo();
  const workflowsQueue = info.taskQueue;
  const queuePrefix = workflowsQueue.replace(/workflows$/, '');
  const board = new ReleaseStatusBoard({ releaseId: info.workflowId, ...identity }, () => new Date(), steps);
  setHandler(statusQuery, () => board.status);
  const decisions = new ReleaseDecisions(board);
  decisions.install();
  const report = () => {
    upsertSearchAttributes([
      { key: keys.releaseStep, value: board.status.currentStep ?? 'done' },
      { key: keys.releaseStatus, value: board.status.state },
    ]);
    setCurrentDetails(board.toMarkdown());
  };
  return { workflowsQueue, queuePrefix, board, decisions, report };
}
