/**
 * The explorer of one audience or computed trait: its members (the engine's outputs index),
 * its recent changes and its size over time (the explorer store the API keeps from the change log).
 * Every read is of the serving version.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { servingVersion, STEP_MS, type DefinitionRegistry, type ExplorerStore, type OutputRow, type ProfileLocator, type StoreHandle } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import { pageCursor } from './cursor.ts';
import { sizeOf, type KindSpec } from './present.ts';
import { idParams, memberSchema, paginationOutputSchema, publicApiErrorSchema, recentChangeSchema, sizePointSchema, sizeQuerySchema } from './schemas.ts';
import { checkSizeRange } from './size-range.ts';

export interface ExplorerRoutesDeps {
  readonly registry: DefinitionRegistry;
  readonly store: StoreHandle;
  /** undefined when this process does not follow the change log: changes and size history answer 503. */
  readonly explorer?: ExplorerStore | undefined;
  readonly clock: () => number;
  /** finds a profile by any identifier (`search=email:…`). */
  readonly locator?: ProfileLocator | undefined;
}

const SECURITY = [{ managementToken: [] }];
const errorResponses = {
  400: { description: 'malformed request or cursor', content: { 'application/json': { schema: publicApiErrorSchema } } },
  401: { description: 'no management token of this space', content: { 'application/json': { schema: publicApiErrorSchema } } },
  404: { description: 'no such definition in this space', content: { 'application/json': { schema: publicApiErrorSchema } } },
  503: { description: 'the engine state or the explorer store is not available', content: { 'application/json': { schema: publicApiErrorSchema } } },
};


export function explorerRoutes(router: OpenAPIHono, spec: KindSpec, deps: ExplorerRoutesDeps): void {
  const base = `/spaces/{spaceId}/${spec.path}/{id}`;
  const tags = ['Explorer'];
  const found = (space: string, id: string) => {
    const record = deps.registry.get(space, id);
    if (record === undefined || record.kind !== spec.kind) throw new HttpError(404, 'not-found', `no ${spec.noun} ${id} in space ${space}`);
    return record;
  };
  const explorer = () => {
    if (deps.explorer === undefined) throw new HttpError(503, 'unavailable', 'this service does not follow the change log (explorer off)');
    return deps.explorer;
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/members`,
      tags,
      summary: spec.kind === 'audience' ? 'Members of the audience, by profile id' : 'Profiles with a value, by profile id',
      security: SECURITY,
      request: {
        params: idParams,
        query: z.object({
          'pagination.count': z.coerce.number().int().min(1).max(1000).default(100),
          'pagination.cursor': z.string().min(1).optional(),
          search: z
            .string()
            .min(1)
            .max(600)
            .optional()
            .describe('`<type>:<value>` (e.g. `email:alice@example.com`, `user_id:alice`): the profile holding that identifier, if it is a member; otherwise a prefix of profile ids (`use_3Hq`)'),
        }),
      },
      responses: {
        200: {
          description: 'one page of members (keyset by profile id; `since` is when it entered or took its value)',
          content: { 'application/json': { schema: z.object({ data: z.object({ members: z.array(memberSchema), version: z.number().int().nullable(), pagination: paginationOutputSchema }) }) } },
        },
        ...errorResponses,
      },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      const query = c.req.valid('query');
      const record = found(spaceId, id);
      const version = servingVersion(record);
      const search = query.search;
      const scope = { space: spaceId, list: `members:${id}@${version ?? 0}${search === undefined ? '' : `?${search}`}` };
      const { position, pagination } = pageCursor(scope, query['pagination.cursor']);
      if (version === undefined) return c.json({ data: { members: [], version: null, pagination: { ...pagination(null), totalEntries: 0 } } }, 200);
      const store = deps.store.get();
      if (store === undefined) throw new HttpError(503, 'unavailable', 'the engine state is not available yet');
      const after = typeof position['a'] === 'string' ? position['a'] : undefined;
      const limit = query['pagination.count'];
      // an identifier finds the profile holding it (one owner lookup) when that one is a member;
      // otherwise the search is a prefix of profile ids
      const located = search === undefined || !/^[^:]+:./.test(search) ? undefined : deps.locator?.locate(spaceId, record.definition.type === 'ACCOUNTS' ? 'accounts' : 'users', search);
      const hit = located?.ok === true ? store.output(spaceId, id, located.profileId) : undefined;
      let rows: OutputRow[];
      if (hit === undefined) rows = store.outputs(spaceId, id, { limit: limit + 1, ...(after === undefined ? {} : { after }), ...(search === undefined ? {} : { prefix: search }) });
      else rows = after === undefined ? [hit] : []; // (one profile: one page)
      const page = rows.slice(0, limit);
      return c.json(
        {
          data: {
            members: page.map((r) => ({ profileId: r.profileId, value: r.value, since: new Date(r.at).toISOString() })),
            version,
            // (the outputs index reads forwards only: no previous page)
            // (the definition's size: counted at most every two seconds — a count is a range scan, ~130 ms at 1M members)
            pagination: { ...pagination(rows.length > limit ? { a: page.at(-1)!.profileId } : null), totalEntries: sizeOf(record, deps.store) ?? store.outputCount(spaceId, id) },
          },
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/changes`,
      tags,
      summary: spec.kind === 'audience' ? 'Recent enters and exits, newest first' : 'Recent value changes, newest first',
      security: SECURITY,
      request: {
        params: idParams,
        query: z.object({
          'pagination.count': z.coerce.number().int().min(1).max(1000).default(100),
          'pagination.cursor': z.string().min(1).optional(),
          kind: z.enum(['enter', 'exit', 'trait']).optional(),
        }),
      },
      responses: {
        200: {
          description: 'one page of changes, each with its event-time instant',
          content: { 'application/json': { schema: z.object({ data: z.object({ changes: z.array(recentChangeSchema), pagination: paginationOutputSchema }) }) } },
        },
        ...errorResponses,
      },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      const query = c.req.valid('query');
      found(spaceId, id);
      const store = explorer();
      const scope = { space: spaceId, list: `changes:${id}:${query.kind ?? '*'}` };
      const { position, pagination } = pageCursor(scope, query['pagination.cursor']);
      const before = typeof position['t'] === 'number' && typeof position['i'] === 'string' ? { at: position['t'], id: position['i'] } : undefined;
      const page = store.recent(spaceId, id, {
        limit: query['pagination.count'],
        ...(before === undefined ? {} : { before }),
        ...(query.kind === undefined ? {} : { kinds: new Set([query.kind]) }),
      });
      const last = page.changes.at(-1);
      return c.json(
        {
          data: {
            changes: page.changes.map((ch) => ({
              id: ch.id,
              kind: ch.kind,
              profileId: ch.profileId,
              version: ch.version,
              at: new Date(ch.at).toISOString(),
              ...(ch.kind === 'trait' ? { value: ch.value ?? null, previous: ch.previous ?? null } : {}),
            })),
            pagination: pagination(page.hasMore && last !== undefined ? { t: last.at, i: last.id } : null),
          },
        } as never,
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/size-history`,
      tags,
      summary: 'Size over time (event time), one point per minute, hour or day',
      security: SECURITY,
      request: {
        params: idParams,
        query: sizeQuerySchema,
      },
      responses: {
        200: {
          description: 'the size at the end of each step (default: the last 24 hours by hour)',
          content: {
            'application/json': {
              schema: z.object({ data: z.object({ version: z.number().int().nullable(), granularity: z.enum(['minute', 'hour', 'day']), points: z.array(sizePointSchema) }) }),
            },
          },
        },
        ...errorResponses,
      },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      const query = c.req.valid('query');
      const record = found(spaceId, id);
      const store = explorer();
      const step = STEP_MS[query.granularity];
      const end = query.end ?? deps.clock();
      const start = query.start ?? end - 24 * 3_600_000;
      checkSizeRange(start, end, step);
      const version = servingVersion(record);
      const points = version === undefined ? [] : store.sizeSeries(spaceId, id, version, { from: start, to: end, step: query.granularity });
      return c.json({ data: { version: version ?? null, granularity: query.granularity, points: points.map((p) => ({ at: new Date(p.at).toISOString(), count: p.count })) } }, 200);
    },
  );
}
