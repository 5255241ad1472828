/**
 * `/spaces/:spaceId/audiences` and `/spaces/:spaceId/computed-traits` (Segment Public API shapes):
 * create, list with cursor pagination, get, update (a new query is a new version), delete, the
 * definitions that reference one (`audience-references`), and previews.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { RegistryError, type DefinitionRecord, type DefinitionRegistry, type StoreHandle } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import type { Logger } from '../logger.ts';
import { pageCursor } from './cursor.ts';
import { keyFromName, presentDefinition, presentPreview, registryHttpError, sizeOf, type KindSpec } from './present.ts';
import {
  audienceSchema,
  computedTraitSchema,
  createDefinitionSchema,
  idParams,
  paginationOutputSchema,
  paginationQuerySchema,
  previewInputSchema,
  previewSchema,
  publicApiErrorSchema,
  referenceSchema,
  spaceParams,
  updateDefinitionSchema,
} from './schemas.ts';

/**
 * What the routes need of a registry: one process's `DefinitionRegistry`, or the API role's view of
 * the cluster's shared definitions home (api/api-role/home-registry.ts).
 */
export type ManagedRegistry = Pick<DefinitionRegistry, 'get' | 'list' | 'consumers' | 'create' | 'update' | 'remove' | 'createPreview' | 'getPreview'>;

/** Sizes from elsewhere than this process's store (the API role gathers them from the workers): by definition id, null without a serving version. */
export type SizeSource = (space: string, records: readonly DefinitionRecord[]) => Promise<ReadonlyMap<string, number | null>>;

export interface DefinitionRoutesDeps {
  readonly registry: ManagedRegistry;
  readonly store: StoreHandle;
  /** with it, sizes come from here instead of `store`. */
  readonly sizes?: SizeSource;
  readonly logger: Logger;
}

const SECURITY = [{ managementToken: [] }];
const errors = (codes: readonly number[]) =>
  Object.fromEntries(codes.map((code) => [code, { description: ERROR_TEXT[code] ?? 'error', content: { 'application/json': { schema: publicApiErrorSchema } } }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'malformed request (input-validation)',
  401: 'no management token of this space',
  404: 'no such definition in this space',
  409: 'conflict: the key is taken or reserved, a fixed field changed, or other definitions use it',
  422: 'the query has diagnostics (line and column in each error)',
};

/** Runs a registry call, turning its errors into HTTP errors. */
async function registryCall<T>(call: () => Promise<T> | T): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RegistryError) throw registryHttpError(error);
    throw error;
  }
}

export function definitionRoutes(router: OpenAPIHono, spec: KindSpec, deps: DefinitionRoutesDeps): void {
  const { registry, store } = deps;
  const itemSchema = spec.kind === 'audience' ? audienceSchema : computedTraitSchema;
  const base = `/spaces/{spaceId}/${spec.path}`;
  const tags = [spec.kind === 'audience' ? 'Audiences' : 'Computed traits'];
  const one = (body: unknown) => z.object({ data: z.object({ [spec.one]: body as z.ZodType }) });
  const sizesOf = async (space: string, records: readonly DefinitionRecord[]): Promise<ReadonlyMap<string, number | null>> =>
    deps.sizes === undefined ? new Map(records.map((r) => [r.id, sizeOf(r, store)])) : deps.sizes(space, records);
  const item = async (record: DefinitionRecord) => ({ data: { [spec.one]: presentDefinition(record, spec, (await sizesOf(record.space, [record])).get(record.id) ?? null) } });
  const found = (space: string, id: string) => {
    const record = registry.get(space, id);
    if (record === undefined || record.kind !== spec.kind) throw new HttpError(404, 'not-found', `no ${spec.noun} ${id} in space ${space}`);
    return record;
  };

  router.openapi(
    createRoute({
      method: 'post',
      path: base,
      tags,
      summary: `Create ${spec.noun === 'audience' ? 'an audience' : 'a computed trait'}`,
      security: SECURITY,
      request: { params: spaceParams, body: { required: true, content: { 'application/json': { schema: createDefinitionSchema } } } },
      responses: { 201: { description: 'created (status Preparing)', content: { 'application/json': { schema: one(itemSchema) } } }, ...errors([400, 401, 409, 422]) },
    }),
    async (c) => {
      const { spaceId } = c.req.valid('param');
      const body = c.req.valid('json');
      const key = body.key ?? keyFromName(body.name);
      if (!/^[a-z0-9_]{1,120}$/.test(key)) {
        const message = 'no key can be made from the name: give "key" (lowercase letters, digits, "_")';
        throw new HttpError(400, 'input-validation', message, {}, { issues: [{ message, field: 'key' }] });
      }
      const record = await registryCall(() =>
        registry.create({
          space: spaceId,
          kind: spec.kind,
          key,
          name: body.name,
          definition: body.definition,
          ...(body.description === undefined ? {} : { description: body.description }),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          ...(body.options === undefined ? {} : { options: body.options }),
          ...(body.computeCadence === undefined ? {} : { computeCadence: body.computeCadence }),
        }),
      );
      deps.logger.info('definition created', { space: spaceId, id: record.id, key: record.key, kind: spec.kind });
      return c.json((await item(record)) as never, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: base,
      tags,
      summary: `List ${spec.path.replace('-', ' ')}`,
      security: SECURITY,
      request: { params: spaceParams, query: paginationQuerySchema },
      responses: {
        200: {
          description: 'one page, in creation order',
          content: { 'application/json': { schema: z.object({ data: z.object({ [spec.many]: z.array(itemSchema), pagination: paginationOutputSchema }) }) } },
        },
        ...errors([400, 401]),
      },
    }),
    async (c) => {
      const { spaceId } = c.req.valid('param');
      const query = c.req.valid('query');
      const count = query['pagination.count'];
      const { position, pagination } = pageCursor({ space: spaceId, list: spec.kind }, query['pagination.cursor']);
      const after = typeof position['a'] === 'number' ? position['a'] : undefined;
      const before = typeof position['b'] === 'number' ? position['b'] : undefined;
      const page = registry.list(spaceId, spec.kind, { limit: count, ...(after === undefined ? {} : { after }), ...(before === undefined ? {} : { before }) });
      const first = page.records[0]?.seq ?? (after !== undefined ? after + 1 : (before ?? 0));
      const last = page.records.at(-1)?.seq ?? first;
      const sizes = await sizesOf(spaceId, page.records);
      return c.json(
        {
          data: {
            [spec.many]: page.records.map((r) => presentDefinition(r, spec, sizes.get(r.id) ?? null)),
            pagination: { ...pagination(page.hasNext ? { a: last } : null, page.hasPrevious ? { b: first } : null), totalEntries: page.totalEntries },
          },
        } as never,
        200,
      );
    },
  );

  // previews before `/{id}`: `previews` is not an id.
  router.openapi(
    createRoute({
      method: 'post',
      path: `${base}/previews`,
      tags,
      summary: `Preview ${spec.noun === 'audience' ? 'an audience' : 'a computed trait'} (the engine computes it once over the log)`,
      security: SECURITY,
      request: { params: spaceParams, body: { required: true, content: { 'application/json': { schema: previewInputSchema } } } },
      responses: {
        201: { description: 'accepted (status RUNNING)', content: { 'application/json': { schema: z.object({ data: z.object({ [spec.preview]: previewSchema }) }) } } },
        ...errors([400, 401, 404, 409, 422]),
      },
    }),
    async (c) => {
      const { spaceId } = c.req.valid('param');
      const body = c.req.valid('json');
      const preview = await registryCall(() =>
        registry.createPreview({
          space: spaceId,
          kind: spec.kind,
          definition: body.definition,
          ...(body.options === undefined ? {} : { options: body.options }),
          ...(body.compareTo === undefined ? {} : { compareTo: body.compareTo }),
        }),
      );
      return c.json({ data: { [spec.preview]: presentPreview(preview) } } as never, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/previews/{id}`,
      tags,
      summary: 'Get a preview',
      security: SECURITY,
      request: { params: idParams },
      responses: {
        200: { description: 'the preview', content: { 'application/json': { schema: z.object({ data: z.object({ [spec.preview]: previewSchema }) }) } } },
        ...errors([401, 404]),
      },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      const preview = registry.getPreview(spaceId, id);
      if (preview === undefined || preview.kind !== spec.kind) throw new HttpError(404, 'not-found', `no preview ${id} in space ${spaceId}`);
      return c.json({ data: { [spec.preview]: presentPreview(preview) } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}`,
      tags,
      summary: `Get ${spec.noun === 'audience' ? 'an audience' : 'a computed trait'} with its versions, status, progress and size`,
      security: SECURITY,
      request: { params: idParams },
      responses: { 200: { description: 'the definition', content: { 'application/json': { schema: one(itemSchema) } } }, ...errors([401, 404]) },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      return c.json((await item(found(spaceId, id))) as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: `${base}/{id}`,
      tags,
      summary: 'Update: name, description, enabled, options; a new query becomes a new version (the live one serves until it is Live)',
      security: SECURITY,
      request: { params: idParams, body: { required: true, content: { 'application/json': { schema: updateDefinitionSchema } } } },
      responses: { 200: { description: 'the updated definition', content: { 'application/json': { schema: one(itemSchema) } } }, ...errors([400, 401, 404, 409, 422]) },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      const body = c.req.valid('json');
      found(spaceId, id);
      const record = await registryCall(() =>
        registry.update(spaceId, id, {
          ...(body.name === undefined ? {} : { name: body.name }),
          ...(body.description === undefined ? {} : { description: body.description }),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          ...(body.definition?.query === undefined ? {} : { query: body.definition.query }),
          ...(body.definition?.type === undefined ? {} : { type: body.definition.type }),
          ...(body.options === undefined ? {} : { options: body.options }),
          ...(body.computeCadence === undefined ? {} : { computeCadence: body.computeCadence }),
        }),
      );
      deps.logger.info('definition updated', { space: spaceId, id, version: record.versions.at(-1)?.version, fields: Object.keys(body) });
      return c.json((await item(record)) as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{id}`,
      tags,
      summary: 'Delete (the key stays reserved; refused while other definitions use it)',
      security: SECURITY,
      request: { params: idParams },
      responses: {
        200: { description: 'deleted', content: { 'application/json': { schema: z.object({ data: z.object({ status: z.literal('SUCCESS') }) }) } } },
        ...errors([401, 404, 409]),
      },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      found(spaceId, id);
      await registryCall(() => registry.remove(spaceId, id));
      deps.logger.info('definition deleted', { space: spaceId, id });
      return c.json({ data: { status: 'SUCCESS' as const } }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}/audience-references`,
      tags,
      summary: 'The audiences and computed traits whose query uses this one',
      security: SECURITY,
      request: { params: idParams },
      responses: {
        200: {
          description: 'its consumers',
          content: { 'application/json': { schema: z.object({ data: z.object({ audiences: z.array(referenceSchema), computedTraits: z.array(referenceSchema) }) }) } },
        },
        ...errors([401, 404]),
      },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      const record = found(spaceId, id);
      const users = registry.consumers(spaceId, record.key);
      const ref = (r: (typeof users)[number]) => ({ id: r.id, key: r.key, name: r.name });
      return c.json({ data: { audiences: users.filter((u) => u.kind === 'audience').map(ref), computedTraits: users.filter((u) => u.kind === 'trait').map(ref) } }, 200);
    },
  );
}
