// Prebuilds the workflow bundle at `npm run build`, so workers start without webpack.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { DEFAULT_WORKFLOW_BUNDLE } from '../worker/create-workers.js';
import { WORKFLOW_TRACING_MODULE } from '../worker/tracing-module.js';

const { code } = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('../workflows/index.js', import.meta.url)),
  // Always in the bundle (tracing on or off), so turning tracing on never changes the workflow
  // code a running release replays on; without an exporter its spans go nowhere.
  workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
  logger: { info() {}, warn: console.warn, error: console.error, debug() {}, trace() {}, log() {} },
});
await writeFile(DEFAULT_WORKFLOW_BUNDLE, code);
