/**
 * CSV exports of an audience or a computed trait (Segment's formats, engine/export): start an export
 * (a job reading one snapshot; 409 while another export of the definition runs), its status with
 * progress and ETA, and its download — streamed from the job's file, gzip-encoded when the client
 * accepts it.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { AUDIENCE_FORMATS, exportOptions, historyRange, historyVersion, TRAIT_FORMATS, type DefinitionRegistry, type ExportJob, type ExportJobs, type StoreHandle } from '../../engine/index.ts';
import { checkInstant, engineStore, MANAGEMENT_CODES } from '../history/history-present.ts';
import { HttpError } from '../http-error.ts';
import type { KindSpec } from './present.ts';
import { idParams, isoTimeSchema, publicApiErrorSchema } from './schemas.ts';

export interface ExportRoutesDeps {
  readonly registry: DefinitionRegistry;
  readonly store: StoreHandle;
  readonly exports: ExportJobs;
}

const SECURITY = [{ managementToken: [] }];
const error = (description: string) => ({ description, content: { 'application/json': { schema: publicApiErrorSchema } } });

const exportInputSchema = z
  .strictObject({
    format: z.enum([...new Set([...AUDIENCE_FORMATS, ...TRAIT_FORMATS])] as [string, ...string[]]).optional(),
    formatted: z.boolean().optional(),
    externalIds: z.array(z.string().min(1).max(100)).max(100).optional(),
    customTraits: z.array(z.string().min(1).max(200)).max(300).optional(),
    computedTraits: z.array(z.string().min(1).max(120)).max(100).optional(),
    identifier: z.string().min(1).max(100).optional(),
    hashed: z.boolean().optional(),
    accountRows: z.boolean().optional(),
    at: isoTimeSchema.optional(),
  })
  .meta({ id: 'ExportInput' });

const exportSchema = z
  .object({
    exportId: z.string(),
    definitionId: z.string(),
    status: z.enum(['IN_PROGRESS', 'SUCCESS', 'FAIL']),
    format: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    at: z.string().optional(),
    snapshot: z.object({ position: z.number(), watermark: z.string().nullable() }).optional(),
    members: z.number().int(),
    totalMembers: z.number().int().nullable(),
    progress: z.number().nullable(),
    eta: z.string().nullable(),
    bytes: z.number().int().optional(),
    urls: z.array(z.string()).optional(),
    expiresAt: z.string().optional(),
    error: z.string().optional(),
  })
  .meta({ id: 'Export' });

const iso = (t: number) => new Date(t).toISOString();

export function exportRoutes(router: OpenAPIHono, spec: KindSpec, deps: ExportRoutesDeps): void {
  const base = `/spaces/{spaceId}/${spec.path}/{id}/exports`;
  const tags = ['Exports'];
  const found = (space: string, id: string) => {
    const record = deps.registry.get(space, id);
    if (record === undefined || record.kind !== spec.kind) throw new HttpError(404, 'not-found', `no ${spec.noun} ${id} in space ${space}`);
    return record;
  };
  const jobOf = (space: string, id: string, exportId: string) => {
    found(space, id);
    const job = deps.exports.get(space, exportId);
    if (job === undefined || job.definitionId !== id) throw new HttpError(404, 'not-found', `no export ${exportId} of ${spec.noun} ${id} (exports are kept for a day)`);
    return job;
  };
  const present = (job: ExportJob) => {
    const { progress, eta } = deps.exports.estimate(job);
    const expires = deps.exports.expiresAt(job);
    return {
      exportId: job.exportId,
      definitionId: job.definitionId,
      status: job.status,
      format: job.options.format,
      startedAt: iso(job.startedAt),
      ...(job.finishedAt === undefined ? {} : { finishedAt: iso(job.finishedAt) }),
      ...(job.at === undefined ? {} : { at: iso(job.at) }),
      ...(job.snapshot === undefined ? {} : { snapshot: { position: job.snapshot.position, watermark: Number.isFinite(job.snapshot.watermark) ? iso(job.snapshot.watermark) : null } }),
      members: job.members,
      totalMembers: job.total,
      progress,
      eta: eta === null ? null : iso(eta),
      ...(job.status === 'SUCCESS' ? { bytes: job.bytes, urls: [`/spaces/${job.space}/${spec.path}/${job.definitionId}/exports/${job.exportId}/download`] } : {}),
      ...(expires === undefined || job.status !== 'SUCCESS' ? {} : { expiresAt: iso(expires) }),
      ...(job.error === undefined ? {} : { error: job.error }),
    };
  };

  router.openapi(
    createRoute({
      method: 'post',
      path: base,
      tags,
      summary: `Start a CSV export of the ${spec.noun} (one running export per definition)`,
      description:
        spec.kind === 'audience'
          ? 'Formats: `columns` (default; `formatted` one column per identifier type and trait, or key + JSON objects), `unformatted` (key,external_ids), `indexed` (email, email_1, …), `identifier` (one identifier type, SHA-256 upper-case hex unless `hashed: false`). `at`: the members as of that instant, from the history.'
          : 'Formats: `unformatted` (default; key,value,external_ids), `indexed` (email, email_1, …), `rows` (one column per identifier type, additional rows for multi-valued identifiers). `at`: the values as of that instant, from the history.',
      security: SECURITY,
      request: { params: idParams, body: { content: { 'application/json': { schema: exportInputSchema } }, required: false } },
      responses: {
        201: { description: 'the export started', content: { 'application/json': { schema: z.object({ data: z.object({ export: exportSchema }) }) } } },
        400: error('input-validation (a format option that does not apply, an unknown computed trait), instant-out-of-retention, instant-not-computed'),
        401: error('no management token of this space'),
        404: error('no such definition in this space'),
        409: error('export-running: another export of this definition is running'),
        503: error('the engine state is not available'),
      },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      const body = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : {};
      const record = found(spaceId, id);
      const { at, ...input } = body;
      const checked = exportOptions(spec.kind, input);
      if (!checked.ok) throw new HttpError(400, 'input-validation', checked.problems.map((p) => p.message).join('; '), {}, { issues: checked.problems.map((p) => ({ message: p.message, field: p.field, code: p.code })) });
      let asOf: { t: number; version: number } | undefined;
      if (at !== undefined) {
        const info = historyVersion(deps.registry, record);
        if (info === undefined) throw new HttpError(404, 'not-found', `${spec.noun} ${id} has no version computed yet`);
        checkInstant(at, historyRange(engineStore(deps.store, MANAGEMENT_CODES), info.since), MANAGEMENT_CODES);
        asOf = { t: at, version: info.version };
      }
      const started = deps.exports.start(record, checked.options, asOf);
      if (!started.ok) {
        const status = started.code === 'export-running' ? 409 : started.code === 'unavailable' ? 503 : started.code === 'not-computed' ? 404 : 400;
        const code = started.code === 'unknown-computed-trait' ? 'input-validation' : started.code === 'not-computed' ? 'not-found' : started.code;
        throw new HttpError(status, code, started.message, status === 503 ? { 'Retry-After': '1' } : {}, started.field === undefined ? {} : { issues: [{ message: started.message, field: started.field }] });
      }
      return c.json({ data: { export: present(started.job) } } as never, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{exportId}`,
      tags,
      summary: 'An export: status, progress, ETA, and its download URL once done',
      security: SECURITY,
      request: { params: idParams.extend({ exportId: z.string() }) },
      responses: {
        200: { description: 'the export', content: { 'application/json': { schema: z.object({ data: z.object({ export: exportSchema }) }) } } },
        401: error('no management token of this space'),
        404: error('no such definition or export in this space'),
      },
    }),
    (c) => {
      const { spaceId, id, exportId } = c.req.valid('param');
      return c.json({ data: { export: present(jobOf(spaceId, id, exportId)) } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{exportId}/download`,
      tags,
      summary: 'The CSV file of a finished export, streamed (gzip with Accept-Encoding: gzip)',
      security: SECURITY,
      request: { params: idParams.extend({ exportId: z.string() }) },
      responses: {
        200: { description: 'the CSV (RFC 4180, CRLF line ends, UTF-8)', content: { 'text/csv': { schema: z.string() } } },
        401: error('no management token of this space'),
        404: error('no such definition or export in this space'),
        409: error('export-not-ready (still running) or export-failed'),
      },
    }),
    (c) => {
      const { spaceId, id, exportId } = c.req.valid('param');
      const job = jobOf(spaceId, id, exportId);
      if (job.status === 'IN_PROGRESS') throw new HttpError(409, 'export-not-ready', `export ${exportId} is still running`);
      if (job.status === 'FAIL') throw new HttpError(409, 'export-failed', `export ${exportId} failed: ${job.error ?? 'no reason recorded'}`);
      const record = found(spaceId, id);
      const file = createReadStream(deps.exports.file(job));
      const gzip = acceptsGzip(c.req.header('accept-encoding'));
      const body = gzip ? file.pipe(createGzip()) : file;
      if (gzip) file.on('error', (e) => body.destroy(e));
      const headers: Record<string, string> = {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${record.key}-${job.exportId}.csv"`,
        vary: 'Accept-Encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : { 'content-length': String(job.bytes) }),
      };
      return new Response(Readable.toWeb(body) as ReadableStream, { status: 200, headers }) as never;
    },
  );
}

/** Whether `Accept-Encoding` admits gzip (`gzip;q=0` refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== 'x-gzip') continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined);
    return q === undefined || Number(q) > 0;
  }
  return false;
}
