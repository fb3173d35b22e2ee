// OpenTelemetry tracing of releases: one trace per release, with a span for the workflow run,
// each activity it schedules and each activity execution (on whichever worker ran it), exported
// over OTLP/HTTP. Configured with the standard OTEL_* variables, so any collector works.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  NoopSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

export interface Tracing {
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Sends the spans still buffered; a stopping worker calls it last. */
  shutdown(): Promise<void>;
}

/**
 * Tracing is on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
 * OTEL_EXPORTER_OTLP_ENDPOINT) and OTEL_TRACES_EXPORTER is not `none`. The exporter itself
 * reads the rest (headers, timeout); OTEL_SERVICE_NAME names the worker (default imagecast-worker).
 */
export function tracingFromEnv(env: NodeJS.ProcessEnv): Tracing | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME || 'imagecast-worker' });
  // The batch processor reads OTEL_BSP_* (e.g. OTEL_BSP_SCHEDULE_DELAY) for its pacing.
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Activity spans use the global tracer (the interceptors' default), and the global W3C
  // propagator reads the parent the workflow put in the activity's headers: without it every
  // activity would start a trace of its own.
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // The interceptor makes that parent the active context for the activity's span: only a
  // context manager makes `context.with` stick across the activity's awaits.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return { spanProcessor, resource, shutdown: () => provider.shutdown() };
}

/**
 * What every worker gets, tracing or not: the workflow bundle always carries the tracing
 * interceptors (see infra/bundle-workflows.ts), so their span sink must exist; without
 * tracing it drops the spans.
 */
export function tracingSinks(tracing: Tracing | undefined): {
  exporter: ReturnType<typeof makeWorkflowExporter>;
} {
  return {
    exporter: tracing
      ? makeWorkflowExporter(tracing.spanProcessor, tracing.resource)
      : makeWorkflowExporter(new NoopSpanProcessor(), new Resource({})),
  };
}

/** Activity spans, children of the workflow's "StartActivity" span (propagated in headers). */
export function tracingActivityInterceptors(tracing: Tracing | undefined): ActivityInterceptorsFactory[] {
  if (!tracing) return [];
  return [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
  ];
}
