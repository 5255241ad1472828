/**
 * `/spaces/:spaceId/destinations` (Public API style, Bearer management token): destinations CRUD,
 * their connections to audiences and computed traits, status (lag, delivered, retrying, failed,
 * paused, last error), resume after a pause, and dead letters (list, replay). Secrets — the signing
 * secret or write key, webhook header values — are stored and never shown.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  DEFAULT_IDENTIFIERS,
  DestinationError,
  type ConnectionRecord,
  type DefinitionRegistry,
  type DestinationRecord,
  type DestinationStore,
} from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import type { Logger } from '../logger.ts';
import { buildDestination, flatSettings } from './destination-input.ts';
import {
  connectionParams,
  connectionSchema,
  createConnectionSchema,
  createDestinationSchema,
  deadLetterSchema,
  destinationParams,
  destinationSchema,
  statusSchema,
  updateDestinationSchema,
} from './destination-schemas.ts';
import { publicApiErrorSchema, spaceParams } from './schemas.ts';

export interface DestinationRoutesDeps {
  readonly destinations: DestinationStore;
  readonly registry: DefinitionRegistry;
  /** the change log's newest position (the status's lag); undefined: lag unknown. */
  readonly changeLogLastSeq?: (() => Promise<number>) | undefined;
  readonly clock: () => number;
  readonly logger: Logger;
}

const SECURITY = [{ managementToken: [] }];
const tags = ['Destinations'];
const iso = (t: number) => new Date(t).toISOString();
const errors = (entries: Record<number, string>) => Object.fromEntries(Object.entries(entries).map(([code, description]) => [code, { description, content: { 'application/json': { schema: publicApiErrorSchema } } }]));
const json = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { 'application/json': { schema } } });

/** A destination as the API shows it: settings flat; the secret, header values and a password in the URL left out. */
export function presentDestination(d: DestinationRecord) {
  const settings: Record<string, unknown> = { ...flatSettings(d.settings) };
  if (settings['headers'] !== undefined) settings['headers'] = Object.fromEntries(Object.keys(settings['headers'] as object).map((k) => [k, '(hidden)']));
  if (typeof settings['url'] === 'string') settings['url'] = settings['url'].replace(/^([a-z]+:\/\/[^/:@]*):[^/@]*@/i, '$1:(hidden)@');
  return {
    id: d.id,
    name: d.name,
    kind: d.settings.kind,
    enabled: d.enabled,
    settings,
    hasSecret: d.secret !== undefined,
    ...(d.preset === undefined ? {} : { preset: d.preset }),
    limits: d.limits,
    retry: d.retry,
    names: d.names,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DestinationError) throw new HttpError(error.code === 'connection_exists' ? 409 : 404, error.code === 'connection_exists' ? 'conflict' : 'not-found', error.message);
    throw error;
  }
}

export function destinationRoutes(router: OpenAPIHono, deps: DestinationRoutesDeps): void {
  const { destinations: store } = deps;
  const base = '/spaces/{spaceId}/destinations';
  const found = (space: string, id: string) => {
    const d = store.destination(space, id);
    if (d === undefined) throw new HttpError(404, 'not-found', `no destination ${id} in space ${space}`);
    return d;
  };
  const invalid = (issues: { message: string; field?: string }[]) => new HttpError(400, 'input-validation', issues.map((i) => i.message).join('; '), {}, { issues });
  const presentConnection = (c: ConnectionRecord) => {
    const state = store.backfill(c.id);
    return {
      id: c.id,
      destinationId: c.destinationId,
      definitionId: c.definitionId,
      identify: c.identify,
      track: c.track,
      group: c.group,
      accountUsers: c.accountUsers,
      identifiers: c.identifiers.map((i) => ({ ...i })),
      includeAnonymous: c.includeAnonymous,
      enrichTraits: [...c.enrichTraits],
      backfill: c.backfill,
      backfillState: state === undefined ? null : { done: state.done, fromPosition: state.fromSeq },
      createdAt: iso(c.createdAt),
    };
  };

  router.openapi(
    createRoute({
      method: 'post',
      path: base,
      tags,
      summary: 'Create a destination (webhook, segment, nats or list)',
      description:
        'settings per kind — webhook: url, headers; segment: url (the API base; /v1/batch is added), secret = write key; nats: url, subject, jetstream; list: url, identifier, hashed, periodSeconds (default 3600), valuesPerRequest. `preset` takes a tool\'s documented request rate (Segment\'s per-destination caps).',
      security: SECURITY,
      request: { params: spaceParams, body: { required: true, content: { 'application/json': { schema: createDestinationSchema } } } },
      responses: { 201: json('created', z.object({ data: z.object({ destination: destinationSchema }) })), ...errors({ 400: 'input-validation', 401: 'no management token of this space' }) },
    }),
    async (c) => {
      const { spaceId } = c.req.valid('param');
      const body = c.req.valid('json');
      const built = buildDestination(body.kind, body);
      if (!built.ok) throw invalid(built.issues);
      const record = await store.createDestination({ space: spaceId, name: body.name, enabled: body.enabled ?? true, ...built.value });
      deps.logger.info('destination created', { space: spaceId, id: record.id, kind: body.kind });
      return c.json({ data: { destination: presentDestination(record) } } as never, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: base,
      tags,
      summary: 'List destinations',
      security: SECURITY,
      request: { params: spaceParams },
      responses: { 200: json('every destination of the space, in creation order', z.object({ data: z.object({ destinations: z.array(destinationSchema) }) })), ...errors({ 401: 'no management token of this space' }) },
    }),
    (c) => c.json({ data: { destinations: store.destinations(c.req.valid('param').spaceId).map(presentDestination) } } as never, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}`,
      tags,
      summary: 'Get a destination',
      security: SECURITY,
      request: { params: destinationParams },
      responses: { 200: json('the destination', z.object({ data: z.object({ destination: destinationSchema }) })), ...errors({ 401: 'no management token of this space', 404: 'no such destination' }) },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      return c.json({ data: { destination: presentDestination(found(spaceId, id)) } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: `${base}/{id}`,
      tags,
      summary: 'Update a destination (settings merge into the current ones; the kind is fixed)',
      security: SECURITY,
      request: { params: destinationParams, body: { required: true, content: { 'application/json': { schema: updateDestinationSchema } } } },
      responses: { 200: json('updated', z.object({ data: z.object({ destination: destinationSchema }) })), ...errors({ 400: 'input-validation', 401: 'no management token of this space', 404: 'no such destination' }) },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      const body = c.req.valid('json');
      const current = found(spaceId, id);
      const built = buildDestination(current.settings.kind, body, current);
      if (!built.ok) throw invalid(built.issues);
      const updated = await storeCall(() =>
        store.updateDestination(spaceId, id, (d) => ({ ...d, ...built.value, ...(body.name === undefined ? {} : { name: body.name }), ...(body.enabled === undefined ? {} : { enabled: body.enabled }) })),
      );
      return c.json({ data: { destination: presentDestination(updated) } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{id}`,
      tags,
      summary: 'Delete a destination with its connections, cursor and dead letters',
      security: SECURITY,
      request: { params: destinationParams },
      responses: { 200: json('deleted', z.object({ data: z.object({ status: z.literal('SUCCESS') }) })), ...errors({ 401: 'no management token of this space', 404: 'no such destination' }) },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      await storeCall(() => store.deleteDestination(spaceId, id));
      deps.logger.info('destination deleted', { space: spaceId, id });
      return c.json({ data: { status: 'SUCCESS' } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/resume`,
      tags,
      summary: 'Resume a destination its failures paused (it goes on from its cursor)',
      security: SECURITY,
      request: { params: destinationParams },
      responses: { 200: json('resumed', z.object({ data: z.object({ destination: destinationSchema }) })), ...errors({ 401: 'no management token of this space', 404: 'no such destination' }) },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      found(spaceId, id);
      const updated = await storeCall(() => store.updateDestination(spaceId, id, (d) => ({ ...d, resumes: (d.resumes ?? 0) + 1 })));
      return c.json({ data: { destination: presentDestination(updated) } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}/status`,
      tags,
      summary: 'Delivery status: state, lag in changes and seconds, delivered, retrying, failed, last error',
      description: '`lag.seconds`: while changes wait, the time since the cursor last advanced (0 when caught up).',
      security: SECURITY,
      request: { params: destinationParams },
      responses: { 200: json('the status', z.object({ data: z.object({ status: statusSchema }) })), ...errors({ 401: 'no management token of this space', 404: 'no such destination' }) },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      return c.json({ data: { status: await destinationStatus(deps, found(spaceId, id)) } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/connections`,
      tags,
      summary: 'Connect an audience or computed trait (its current members or values are sent first, then its changes)',
      security: SECURITY,
      request: { params: destinationParams, body: { required: true, content: { 'application/json': { schema: createConnectionSchema } } } },
      responses: {
        201: json('connected', z.object({ data: z.object({ connection: connectionSchema }) })),
        ...errors({ 400: 'input-validation (a list destination takes audiences only; no call chosen)', 401: 'no management token of this space', 404: 'no such destination or definition', 409: 'the definition is connected already' }),
      },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      const body = c.req.valid('json');
      const d = found(spaceId, id);
      const definition = deps.registry.get(spaceId, body.definitionId);
      if (definition === undefined) throw new HttpError(404, 'not-found', `no audience or computed trait ${body.definitionId} in space ${spaceId}`);
      const accounts = definition.definition.type === 'ACCOUNTS';
      if (d.settings.kind === 'list' && definition.kind !== 'audience') throw invalid([{ field: 'definitionId', message: 'a list destination takes audiences only (Segment sends no computed traits to lists)' }]);
      const identify = body.identify ?? true;
      const track = body.track ?? false;
      const group = body.group ?? accounts;
      const accountUsers = body.accountUsers ?? false;
      if (d.settings.kind !== 'list' && !(accounts ? group || ((identify || track) && accountUsers) : identify || track)) {
        throw invalid([{ message: accounts ? 'choose group and/or accountUsers with identify or track' : 'choose identify and/or track' }]);
      }
      const record = await storeCall(() =>
        store.createConnection({
          space: spaceId,
          destinationId: id,
          definitionId: definition.id,
          identify,
          track,
          group,
          accountUsers,
          identifiers: body.identifiers ?? DEFAULT_IDENTIFIERS,
          includeAnonymous: body.includeAnonymous ?? false,
          enrichTraits: body.enrichTraits ?? [],
          backfill: body.backfill ?? true,
        }),
      );
      deps.logger.info('destination connected', { space: spaceId, destination: id, definition: definition.id, connection: record.id });
      return c.json({ data: { connection: presentConnection(record) } } as never, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}/connections`,
      tags,
      summary: "A destination's connections",
      security: SECURITY,
      request: { params: destinationParams },
      responses: { 200: json('its connections', z.object({ data: z.object({ connections: z.array(connectionSchema) }) })), ...errors({ 401: 'no management token of this space', 404: 'no such destination' }) },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      found(spaceId, id);
      return c.json({ data: { connections: store.connections(id).map(presentConnection) } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}/connections/{connectionId}`,
      tags,
      summary: 'A connection',
      security: SECURITY,
      request: { params: connectionParams },
      responses: { 200: json('the connection', z.object({ data: z.object({ connection: connectionSchema }) })), ...errors({ 401: 'no management token of this space', 404: 'no such destination or connection' }) },
    }),
    (c) => {
      const { spaceId, id, connectionId } = c.req.valid('param');
      found(spaceId, id);
      const connection = store.connection(id, connectionId);
      if (connection === undefined) throw new HttpError(404, 'not-found', `no connection ${connectionId} of destination ${id}`);
      return c.json({ data: { connection: presentConnection(connection) } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{id}/connections/{connectionId}`,
      tags,
      summary: 'Disconnect (nothing more is sent for the definition)',
      security: SECURITY,
      request: { params: connectionParams },
      responses: { 200: json('disconnected', z.object({ data: z.object({ status: z.literal('SUCCESS') }) })), ...errors({ 401: 'no management token of this space', 404: 'no such destination or connection' }) },
    }),
    async (c) => {
      const { spaceId, id, connectionId } = c.req.valid('param');
      found(spaceId, id);
      await storeCall(() => store.deleteConnection(id, connectionId));
      return c.json({ data: { status: 'SUCCESS' } } as never, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}/dead-letters`,
      tags,
      summary: 'Batches that failed their last attempt, oldest first',
      security: SECURITY,
      request: { params: destinationParams, query: z.object({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }) },
      responses: {
        200: json('one page', z.object({ data: z.object({ deadLetters: z.array(deadLetterSchema), total: z.number().int(), next: z.number().int().nullable() }) })),
        ...errors({ 400: 'input-validation', 401: 'no management token of this space', 404: 'no such destination' }),
      },
    }),
    (c) => {
      const { spaceId, id } = c.req.valid('param');
      const { after, limit } = c.req.valid('query');
      found(spaceId, id);
      const page = store.deadLetters(id, { ...(after === undefined ? {} : { after }), limit: limit + 1 });
      const shown = page.slice(0, limit);
      return c.json(
        {
          data: {
            deadLetters: shown.map((l) => ({ id: l.id, error: l.error, attempts: l.attempts, at: iso(l.at), messages: l.messages })),
            total: store.deadLetterCount(id),
            next: page.length > limit ? shown[shown.length - 1]!.id : null,
          },
        } as never,
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: `${base}/{id}/dead-letters/replay`,
      tags,
      summary: 'Send dead letters again (all, or the ids given); they leave the list and return to it only if they fail again',
      security: SECURITY,
      request: { params: destinationParams, body: { required: false, content: { 'application/json': { schema: z.strictObject({ ids: z.array(z.number().int().min(1)).min(1).max(10_000).optional() }) } } } },
      responses: { 202: json('queued for replay', z.object({ data: z.object({ queued: z.number().int() }) })), ...errors({ 400: 'input-validation', 401: 'no management token of this space', 404: 'no such destination or dead letter' }) },
    }),
    async (c) => {
      const { spaceId, id } = c.req.valid('param');
      const body = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : {};
      found(spaceId, id);
      const queued = await storeCall(() => store.replayDeadLetters(id, body.ids));
      return c.json({ data: { queued } } as never, 202);
    },
  );
}

/** A destination's status as the API (and the CLI) shows it. */
export async function destinationStatus(deps: Pick<DestinationRoutesDeps, 'destinations' | 'changeLogLastSeq' | 'clock'>, d: DestinationRecord) {
  const store = deps.destinations;
  const s = store.status(d.id);
  const cursor = store.cursor(d.id) ?? null;
  const last = deps.changeLogLastSeq === undefined ? undefined : await deps.changeLogLastSeq();
  const lagChanges = last === undefined || cursor === null ? null : Math.max(0, last - cursor);
  const backfilling = store.connections(d.id).some((c) => store.backfill(c.id)?.done !== true);
  const state = !d.enabled ? 'disabled' : s.paused !== null && (d.resumes ?? 0) <= s.paused.resumes ? 'paused' : backfilling ? 'backfilling' : 'running';
  return {
    destinationId: d.id,
    state,
    pauseReason: state === 'paused' ? s.paused!.reason : null,
    pausedAt: state === 'paused' ? iso(s.paused!.at) : null,
    position: cursor,
    lag: { changes: lagChanges, seconds: lagChanges === null ? null : lagChanges === 0 ? 0 : Math.max(0, (deps.clock() - (s.advancedAt ?? d.createdAt)) / 1000) },
    delivered: s.delivered,
    retrying: s.retrying,
    failed: s.failed,
    requests: s.requests,
    deadLetters: store.deadLetterCount(d.id),
    lastError: s.lastError === null ? null : { message: s.lastError.message, at: iso(s.lastError.at) },
    lastAdvancedAt: s.advancedAt === null ? null : iso(s.advancedAt),
    lastSyncAt: s.lastSyncAt === null ? null : iso(s.lastSyncAt),
    identifiersCheckedAt: s.identifiersCheckedAt === null ? null : iso(s.identifiersCheckedAt),
  } as const;
}
