import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { REPLAY_OPTIONS } from '../support/replay-history.js';

// Histories recorded from real releases (IMAGECAST_RECORD_HISTORY=test/fixtures/histories/NAME.binpb
// while running test/workflows/release-image.test.js; IMAGECAST_RECORD_HISTORY_DIR=test/fixtures/histories
// for the multi-account parent and child of test/workflows/release-ec2-accounts.test.js and the
// GCE and Azure paths of test/workflows/release-gce.test.js and release-azure.test.js (test/support/replay-history.ts), with a
// NAME.workflow-id file beside each). Replaying them against today's workflow code catches any change that would break
// releases already running in production: a workflow change that fails here needs patching.
const fixtures = fileURLToPath(new URL('../../../test/fixtures/histories', import.meta.url));

describe('workflow replay', () => {
  const files = readdirSync(fixtures).filter((f) => f.endsWith('.binpb'));

  it('has recorded histories to replay', () => {
    assert.ok(files.length > 0);
  });

  for (const file of files) {
    it(`replays ${file} deterministically`, async () => {
      const history = temporal.api.history.v1.History.decode(readFileSync(join(fixtures, file)));
      // Workflows that derive ids from their own (child workflow ids) need the recorded id.
      const idFile = join(fixtures, file.replace(/\.binpb$/, '.workflow-id'));
      const workflowId = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : file;
      await Worker.runReplayHistory(REPLAY_OPTIONS, history, workflowId);
    });
  }
});
