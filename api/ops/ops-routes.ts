/** Operations: liveness (`/healthz`), readiness (`/readyz`: the engine has caught up and is not waiting for its log or disk), Prometheus `/metrics`, the OpenAPI document. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Registry } from 'prom-client';

export interface Readiness {
  readonly ready: boolean;
  /** what the service is waiting for, or how it got ready (shown in the body). */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface OpsDeps {
  readonly readiness: () => Readiness | Promise<Readiness>;
  readonly metrics: Registry;
  readonly version: string;
}

const readinessSchema = z.object({ status: z.enum(['ready', 'starting']), details: z.record(z.string(), z.unknown()) }).meta({ id: 'Readiness' });

export function opsRoutes(router: OpenAPIHono, deps: OpsDeps): void {
  const tags = ['Operations'];
  router.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags,
      summary: 'Liveness: the process serves requests',
      responses: { 200: { description: 'alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags,
      summary: 'Readiness: the engine has caught up with the event log as it was at start (always, without an engine), and the log is reachable and the disk above its reserve (else details.reason: log_unreachable, disk_full)',
      responses: {
        200: { description: 'ready', content: { 'application/json': { schema: readinessSchema } } },
        503: { description: 'still catching up, or waiting for the log (log_unreachable) or for disk space (disk_full)', content: { 'application/json': { schema: readinessSchema } } },
      },
    }),
    async (c) => {
      const r = await deps.readiness();
      return r.ready ? c.json({ status: 'ready' as const, details: { ...r.details } }, 200) : c.json({ status: 'starting' as const, details: { ...r.details } }, 503);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags,
      summary: 'Prometheus metrics',
      responses: { 200: { description: 'text exposition format', content: { 'text/plain': { schema: z.string() } } } },
    }),
    async (c) => c.text(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType }),
  );

  router.get('/openapi.json', (c) =>
    c.json(
      router.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'Flock',
          version: deps.version,
          description: 'Management API (Segment Public API shapes), Profile API (Segment shapes), operations. The tracking API is documented in the README.',
        },
      }),
    ),
  );
}
