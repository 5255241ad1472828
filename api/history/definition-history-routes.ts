/**
 * History on the management API (its Bearer auth and error envelope): an audience's members (a
 * computed trait's valued profiles) as of an instant, and its size over a time range at a chosen
 * resolution — both from the membership history, so both equal what the definition said at the time.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { historyRange, historyVersion, SIZE_STEP_MS, type DefinitionRegistry, type StoreHandle } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import { pageCursor } from '../management/cursor.ts';
import type { KindSpec } from '../management/present.ts';
import { idParams, isoTimeSchema, paginationOutputSchema, publicApiErrorSchema, sizePointSchema, sizeQuerySchema } from '../management/schemas.ts';
import { checkSizeRange } from '../management/size-range.ts';
import { checkInstant, engineStore, MANAGEMENT_CODES, presentCause } from './history-present.ts';

export interface DefinitionHistoryDeps {
  readonly registry: DefinitionRegistry;
  readonly store: StoreHandle;
}

const SECURITY = [{ managementToken: [] }];
const errors = {
  400: { description: 'input-validation (a bad cursor or range), instant-out-of-retention, instant-not-computed', content: { 'application/json': { schema: publicApiErrorSchema } } },
  401: { description: 'no management token of this space', content: { 'application/json': { schema: publicApiErrorSchema } } },
  404: { description: 'no such definition in this space, or no history of that version', content: { 'application/json': { schema: publicApiErrorSchema } } },
  503: { description: 'the engine state is not available', content: { 'application/json': { schema: publicApiErrorSchema } } },
};
const historyMemberSchema = z
  .object({
    profileId: z.string(),
    value: z.unknown(),
    since: z.string(),
    cause: z.object({ type: z.enum(['event', 'time', 'merge', 'version']), messageId: z.string().optional(), from: z.number().int().optional() }).nullable(),
  })
  .meta({ id: 'HistoryMember' });

export function definitionHistoryRoutes(router: OpenAPIHono, spec: KindSpec, deps: DefinitionHistoryDeps): void {
  const base = `/spaces/{spaceId}/${spec.path}/{id}/history`;
  const tags = ['History'];
  /** The definition, its version with history and the instants that version answers. */
  const located = (space: string, id: string, version: number | undefined) => {
    const record = deps.registry.get(space, id);
    if (record === undefined || record.kind !== spec.kind) throw new HttpError(404, 'not-found', `no ${spec.noun} ${id} in space ${space}`);
    const info = historyVersion(deps.registry, record, version);
    if (info === undefined) throw new HttpError(404, 'not-found', version === undefined ? `${spec.noun} ${id} has no version computed yet` : `${spec.noun} ${id} has no version ${version}`);
    const store = engineStore(deps.store, MANAGEMENT_CODES);
    const superseded = record.versions.find((v) => v.version === info.version)?.supersededAt !== undefined;
    if (superseded && store.history.version(space, id, info.version) === undefined) throw new HttpError(404, 'not-found', `the history of version ${info.version} was compacted: its successor's history covers the same past`);
    return { info, store, range: historyRange(store, info.since) };
  };
  const versionQuery = z.coerce.number().int().min(1).optional();

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/members`,
      tags,
      summary: spec.kind === 'audience' ? 'Members of the audience as of an instant' : 'Profiles with a value as of an instant',
      security: SECURITY,
      request: {
        params: idParams,
        query: z.object({
          at: isoTimeSchema.optional(),
          version: versionQuery,
          'pagination.count': z.coerce.number().int().min(1).max(1000).default(100),
          'pagination.cursor': z.string().min(1).optional(),
        }),
      },
      responses: {
        200: {
          description: 'one page by profile id of who was in (and what value they had) at `at` (default: what the engine has computed up to), each with when and why it entered or took the value',
          content: {
            'application/json': {
              schema: z.object({ data: z.object({ at: z.string(), version: z.number().int(), members: z.array(historyMemberSchema), pagination: paginationOutputSchema }) }),
            },
          },
        },
        ...errors,
      },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      const query = c.req.valid('query');
      const { info, store, range } = located(spaceId, id, query.version);
      const t = query.at ?? range.to;
      checkInstant(t, range, MANAGEMENT_CODES);
      const scope = { space: spaceId, list: `history-members:${id}@${info.version}@${t}` };
      const { position, pagination } = pageCursor(scope, query['pagination.cursor']);
      const after = typeof position['a'] === 'string' ? position['a'] : undefined;
      const page = store.history.membersAt(spaceId, id, info.version, t, { limit: query['pagination.count'], ...(after === undefined ? {} : { after }) });
      return c.json(
        {
          data: {
            at: new Date(t).toISOString(),
            version: info.version,
            members: page.members.map((m) => ({ profileId: m.profileId, value: m.value, since: new Date(m.since).toISOString(), cause: presentCause(m.cause, 'camel') })),
            pagination: pagination(page.hasMore ? { a: page.members.at(-1)!.profileId } : null),
          },
        } as never,
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/size`,
      tags,
      summary: 'Size over a time range, one point per minute, hour or day (event time), from the history',
      security: SECURITY,
      request: {
        params: idParams,
        query: sizeQuerySchema.extend({ version: versionQuery }),
      },
      responses: {
        200: {
          description: 'the size at each instant start, start + step, … ≤ end (aligned down to the step): exactly the members at that instant (default: the last 24 hours by hour)',
          content: {
            'application/json': {
              schema: z.object({ data: z.object({ version: z.number().int(), granularity: z.enum(['minute', 'hour', 'day']), points: z.array(sizePointSchema) }) }),
            },
          },
        },
        ...errors,
      },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      const query = c.req.valid('query');
      const { info, store, range } = located(spaceId, id, query.version);
      const step = SIZE_STEP_MS[query.granularity];
      // by default the last 24 hours the history answers for
      const end = Math.floor((query.end ?? range.to) / step) * step;
      const start = query.start === undefined ? Math.ceil(Math.max(end - 24 * 3_600_000, range.from) / step) * step : Math.floor(query.start / step) * step;
      checkSizeRange(start, end, step);
      checkInstant(start, range, MANAGEMENT_CODES, 'start');
      checkInstant(end, range, MANAGEMENT_CODES, 'end');
      const points = store.history.sizeSeries(spaceId, id, info.version, { from: start, to: end, step: query.granularity });
      return c.json({ data: { version: info.version, granularity: query.granularity, points: points.map((p) => ({ at: new Date(p.at).toISOString(), count: p.count })) } }, 200);
    },
  );
}
