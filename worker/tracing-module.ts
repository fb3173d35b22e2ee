// Where the OpenTelemetry workflow interceptors live, for the workflow bundle and for workers
// that bundle at start: one path, so both run the same workflow code.
import { createRequire } from 'node:module';

export const WORKFLOW_TRACING_MODULE = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);
