// OpenTelemetry tracing of a release: the real worker binary with OTEL_EXPORTER_OTLP_ENDPOINT
// set exports over OTLP/HTTP (the exporter's JSON encoding) to a receiver in this test, as it
// would to an OpenTelemetry collector. Real dev server, PostgreSQL and the local cloud.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { freePort } from '../../infra/devstack/free-port.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { tempDir } from '../support/stack.js';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
  service?: string;
}

/** Collects what OTLP/HTTP exporters POST to /v1/traces. */
async function startOtlpReceiver(): Promise<{
  endpoint: string;
  spans: ExportedSpan[];
  contentTypes: Set<string>;
  server: Server;
}> {
  const spans: ExportedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.add(String(req.headers['content-type']));
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: Array<{
            resource: { attributes: ExportedSpan['attributes'] };
            scopeSpans: Array<{ spans: ExportedSpan[] }>;
          }>;
        };
        for (const rs of body.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
          for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  return { endpoint: `http://127.0.0.1:${port}`, spans, contentTypes, server };
}

describe('release tracing (OpenTelemetry, OTLP/HTTP)', () => {
  let h: ReleaseHarness;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const logs = tempDir('tracing-logs');
  let worker: ManagedProcess;

  before(async () => {
    receiver = await startOtlpReceiver();
    // No worker in this process: the traced worker binary serves both queues.
    h = await startReleaseHarness('tracing', { queues: [] });
    await h.publish('1');
    worker = startWorkerProcess(h, 'workflows,local', join(logs, 'worker.log'), {
      IMAGECAST_LOCAL_DATA_DIR: h.localDataDir,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SERVICE_NAME: 'imagecast-worker-test',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
  });
  after(async () => {
    await worker?.stop('SIGTERM');
    await h?.stop();
    receiver?.server.close();
  });

  it("exports one trace per release: the workflow run, each activity scheduled and each one's execution as its child", async () => {
    const { releaseId } = await h.client.startRelease(h.job({ last_service: 'publish' }));
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'succeeded', status.error);

    // Activity spans carry temporalWorkflowId, workflow spans the workflow's info (workflowId).
    const idOf = (s: ExportedSpan) =>
      s.attributes.find((a) => a.key === 'temporalWorkflowId' || a.key === 'workflowId')?.value.stringValue;
    const ofRelease = () => {
      const traces = new Set(receiver.spans.filter((s) => idOf(s) === releaseId).map((s) => s.traceId));
      return receiver.spans.filter((s) => traces.has(s.traceId));
    };
    const deadline = Date.now() + 30_000;
    const exported = () =>
      ['RunActivity:publishImage', 'RunWorkflow:releaseImage'].every((n) =>
        ofRelease().some((s) => s.name === n),
      );
    while (Date.now() < deadline && !exported()) await new Promise((r) => setTimeout(r, 200));
    const spans = ofRelease();
    const names = new Set(spans.map((s) => s.name));
    for (const name of [
      'RunWorkflow:releaseImage',
      'StartActivity:uploadImage',
      'RunActivity:uploadImage',
      'StartActivity:replicateImage',
      'RunActivity:replicateImage',
      'RunActivity:publishImage',
    ])
      assert.ok(names.has(name), `a ${name} span (got ${[...names].sort().join(', ')})`);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'all in one trace');
    assert.ok(
      spans.every((s) => idOf(s) === releaseId),
      'nothing of another workflow in it',
    );

    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const upload = spans.find((s) => s.name === 'RunActivity:uploadImage')!;
    assert.equal(
      byId.get(upload.parentSpanId ?? '')?.name,
      'StartActivity:uploadImage',
      "the execution is the scheduling span's child",
    );
    assert.equal(
      spans.filter((s) => s.name === 'RunActivity:replicateImage').length,
      3,
      'one span per region copied',
    );
    assert.ok(spans.every((s) => s.service === 'imagecast-worker-test'));
    assert.deepEqual([...receiver.contentTypes], ['application/json']);
  });
});
