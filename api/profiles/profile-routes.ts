/**
 * The Profile API (spec §5): `GET /v1/spaces/:spaceId/collections/:collection/profiles/:identifier/…`
 * traits, external_ids, metadata, events and links, with Segment's parameters, keyset cursors and
 * error envelope `{"error":{"code","message"}}`.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  ProfileStoreUnavailableError,
  type Collection,
  type ProfileEventIndex,
  type ProfileExternalId,
  type ProfileFinder,
  type ProfileLinkIndex,
  type ProfileView,
  type ProfileViewReader,
  type SpaceDirectory,
  unescapeKeys,
} from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import { profileIdentifierParam } from '../path-params.ts';
import { profileAuth } from './profile-auth.ts';

export interface ProfileDeps {
  readonly spaces: SpaceDirectory;
  /** this process's store (`ProfileReader`), or the owners' over NATS (the API role: engine/cluster/remote-profiles.ts). */
  readonly reader: ProfileViewReader;
  readonly locator: ProfileFinder;
  /** the engine keeps no per-profile event index yet: without one, `events` answers 501. */
  readonly events?: ProfileEventIndex | undefined;
  /** nor account links: without them, `links` answers 501. */
  readonly links?: ProfileLinkIndex | undefined;
  /** requests per second per space (0 = none); a space may set its own. */
  readonly requestsPerSecond: number;
  readonly clock: () => number;
}

const EVENTS_LOOKBACK_MS = 14 * 86_400_000;
const SECURITY = [{ accessToken: [] }];

const profileErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).meta({ id: 'ProfileApiError' });
const cursorSchema = z.object({ url: z.string(), has_more: z.boolean(), next: z.string(), limit: z.number().int().optional() }).meta({ id: 'ProfileCursor' });
const externalIdSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    collection: z.enum(['users', 'accounts']),
    encoding: z.literal('none'),
    created_at: z.string(),
    source_id: z.string().nullable(),
    first_message_id: z.string().optional(),
  })
  .meta({ id: 'ExternalId' });

const params = z.object({
  spaceId: z.string(),
  collection: z.enum(['users', 'accounts'], { error: 'the collection is "users" or "accounts"' }),
  identifier: profileIdentifierParam,
});
const list = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : new Set(s.split(',').map((x) => x.trim()).filter((x) => x !== ''))));
const flag = z
  .enum(['true', 'false'])
  .optional()
  .transform((s) => s === 'true');
const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'an ISO-8601 time' })
  .transform((s) => Date.parse(s))
  .optional();

const errorResponses = {
  400: { description: 'validation_error or invalid_request_error', content: { 'application/json': { schema: profileErrorSchema } } },
  401: { description: 'authentication_error', content: { 'application/json': { schema: profileErrorSchema } } },
  404: { description: 'not_found: no such profile', content: { 'application/json': { schema: profileErrorSchema } } },
  429: { description: 'rate_limit_error (Retry-After)', content: { 'application/json': { schema: profileErrorSchema } } },
  503: {
    description: "service_unavailable: the engine's state is not readable yet; in the API role partition_unavailable / identity_unavailable: no worker of the profile's partition, or no identity stage owner, answered in time (Retry-After)",
    content: { 'application/json': { schema: profileErrorSchema } },
  },
};

export function profileRoutes(router: OpenAPIHono, deps: ProfileDeps): void {
  router.openAPIRegistry.registerComponent('securitySchemes', 'accessToken', {
    type: 'http',
    scheme: 'basic',
    description: 'an access token of the space (spaces file `accessTokens`) as the user name, empty password',
  });
  router.use('/v1/spaces/:spaceId/*', profileAuth({ spaces: deps.spaces, requestsPerSecond: deps.requestsPerSecond, clock: deps.clock }));
  const base = '/v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}';
  const tags = ['Profile API'];

  /** The located profile's state, or 404 / 400 / 503. */
  const profile = async (space: string, collection: Collection, identifier: string): Promise<ProfileView> => {
    const located = await deps.locator.locate(space, collection, identifier);
    if (!located.ok) {
      if (located.code === 'invalid_identifier') throw new HttpError(400, 'validation_error', located.message);
      throw new HttpError(404, 'not_found', 'Profile was not found.');
    }
    let view: ProfileView | undefined;
    try {
      view = await deps.reader.read(space, located.profileId);
    } catch (error) {
      if (error instanceof ProfileStoreUnavailableError) throw new HttpError(503, 'service_unavailable', error.message, { 'Retry-After': '1' });
      throw error;
    }
    if (view === undefined) throw new HttpError(404, 'not_found', 'Profile was not found.');
    return view;
  };
  const pathOf = (p: z.output<typeof params>, resource: string) =>
    `/v1/spaces/${encodeURIComponent(p.spaceId)}/collections/${p.collection}/profiles/${encodeURIComponent(p.identifier).replaceAll('%3A', ':')}/${resource}`;

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/traits`,
      tags,
      summary: "A profile's traits: custom traits, computed traits, and audience membership as a boolean trait named by the audience key",
      security: SECURITY,
      request: {
        params,
        query: z.object({
          include: list,
          class: z.enum(['audience', 'computed_trait']).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(10),
          verbose: flag,
          next: z.string().optional(),
        }),
      },
      responses: {
        200: {
          description:
            'traits by key (keyset: `next` is the first key of the next page). An audience shows `true` for a member; `false` only when named in `include`.',
          content: { 'application/json': { schema: z.object({ traits: z.record(z.string(), z.unknown()), cursor: cursorSchema }) } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      const view = await profile(p.spaceId, p.collection, p.identifier);
      const selected = view.traits.filter((t) => {
        if (q.class === 'audience' && t.class !== 'audience') return false;
        if (q.class === 'computed_trait' && t.class !== 'computed_trait') return false;
        if (q.include !== undefined) return q.include.has(t.key);
        return t.class !== 'audience' || t.member === true;
      });
      const start = q.next === undefined || q.next === '' ? 0 : lowerBound(selected, q.next);
      const page = selected.slice(start, start + q.limit);
      const following = selected[start + q.limit];
      // fromEntries defines own keys: a `__proto__` trait is a key, not the object's prototype
      const traits = Object.fromEntries(
        page.map((t) => [t.key, q.verbose ? { value: t.value, ...(t.updatedAt === undefined ? {} : { updated_at: new Date(t.updatedAt).toISOString() }) } : t.value]),
      );
      const search = new URLSearchParams({ limit: String(q.limit) });
      if (q.include !== undefined) search.set('include', [...q.include].join(','));
      if (q.class !== undefined) search.set('class', q.class);
      if (q.verbose) search.set('verbose', 'true');
      if (following !== undefined) search.set('next', following.key);
      return c.json(
        { traits, cursor: { url: `${pathOf(p, 'traits')}?${search}`, has_more: following !== undefined, next: following?.key ?? '', limit: q.limit } } as never,
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/external_ids`,
      tags,
      summary: "A profile's identifiers",
      security: SECURITY,
      request: {
        params,
        query: z.object({ include: list, limit: z.coerce.number().int().min(1).max(100).default(25), verbose: flag, next: z.string().optional() }),
      },
      responses: {
        200: { description: 'identifiers ordered by type, then value', content: { 'application/json': { schema: z.object({ data: z.array(externalIdSchema), cursor: cursorSchema }) } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      const view = await profile(p.spaceId, p.collection, p.identifier);
      const ids = [...(await deps.locator.externalIds(p.spaceId, p.collection, view))]
        .filter((x) => q.include === undefined || q.include.has(x.type))
        .sort((a, b) => compare(externalIdKey(a), externalIdKey(b)));
      let start = 0;
      if (q.next !== undefined && q.next !== '') {
        const key = decodeExternalIdCursor(q.next);
        start = ids.findIndex((x) => compare(externalIdKey(x), key) >= 0);
        if (start < 0) start = ids.length;
      }
      const page = ids.slice(start, start + q.limit);
      const following = ids[start + q.limit];
      const next = following === undefined ? '' : `map_${Buffer.from(externalIdKey(following)).toString('base64url')}`;
      const search = new URLSearchParams({ limit: String(q.limit) });
      if (q.include !== undefined) search.set('include', [...q.include].join(','));
      if (next !== '') search.set('next', next);
      return c.json(
        {
          data: page.map((x) => ({
            id: x.id,
            type: x.type,
            collection: x.collection,
            encoding: x.encoding,
            created_at: new Date(x.createdAt).toISOString(),
            source_id: x.sourceId ?? null,
            ...(x.firstMessageId === undefined ? {} : { first_message_id: x.firstMessageId }),
          })),
          cursor: { url: `${pathOf(p, 'external_ids')}?${search}`, has_more: following !== undefined, next },
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/metadata`,
      tags,
      summary: "A profile's metadata: when it was first and last seen",
      security: SECURITY,
      request: { params, query: z.object({ verbose: flag }) },
      responses: {
        200: {
          description: "created_at is the timestamp of the profile's earliest event (as Segment's); updated_at is when the engine last applied an event of the profile",
          content: { 'application/json': { schema: z.object({ metadata: z.object({ created_at: z.string(), updated_at: z.string(), expires_at: z.null() }) }) } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const view = await profile(p.spaceId, p.collection, p.identifier);
      return c.json({ metadata: { created_at: new Date(view.firstSeen).toISOString(), updated_at: new Date(view.lastSeen).toISOString(), expires_at: null } }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/events`,
      tags,
      summary: "A profile's events of the last 14 days (needs the engine's per-profile event index)",
      security: SECURITY,
      request: {
        params,
        query: z.object({
          start: isoTime,
          end: isoTime,
          include: list,
          exclude: list,
          limit: z.coerce.number().int().min(1).max(100).default(10),
          sort: z.enum(['asc', 'desc']).default('desc'),
          next: z.string().optional(),
        }),
      },
      responses: {
        200: { description: 'events; `next` is base64 of `<timestamp_ns>::<message_id>`', content: { 'application/json': { schema: z.object({ data: z.array(z.unknown()), cursor: cursorSchema }) } } },
        ...errorResponses,
        501: { description: 'not_implemented: this engine keeps no per-profile event index', content: { 'application/json': { schema: profileErrorSchema } } },
      },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      const view = await profile(p.spaceId, p.collection, p.identifier);
      const source = provided(deps.events, "a per-profile event index: a profile's events cannot be listed");
      const after = q.next === undefined || q.next === '' ? undefined : decodeEventCursor(q.next);
      const start = Math.max(q.start ?? Number.NEGATIVE_INFINITY, deps.clock() - EVENTS_LOOKBACK_MS);
      const { events, hasMore } = await source.events(p.spaceId, view.id, {
        start,
        ...(q.end === undefined ? {} : { end: q.end }),
        ...(q.include === undefined ? {} : { include: [...q.include] }),
        ...(q.exclude === undefined ? {} : { exclude: [...q.exclude] }),
        limit: q.limit,
        sort: q.sort,
        ...(after === undefined ? {} : { after }),
      });
      const last = events.at(-1);
      const next = hasMore && last !== undefined ? Buffer.from(`${BigInt(last.timestamp) * 1_000_000n}::${last.messageId}`).toString('base64') : '';
      const search = new URLSearchParams({ limit: String(q.limit), sort: q.sort });
      if (next !== '') search.set('next', next);
      return c.json(
        {
          data: events.map((e) => ({
            external_ids: e.externalIds.map((x) => ({ collection: x.collection, type: x.type, id: x.id, encoding: x.encoding })),
            // user keys as sent (engine safe-keys.ts)
            context: unescapeKeys(e.context),
            type: e.type,
            message_id: e.messageId,
            source_id: e.sourceId,
            timestamp: new Date(e.timestamp).toISOString(),
            properties: unescapeKeys(e.properties),
            traits: unescapeKeys(e.traits),
            event: e.event,
            related: { users: view.id },
          })),
          cursor: { url: `${pathOf(p, 'events')}?${search}`, has_more: hasMore, next },
        } as never,
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/links`,
      tags,
      summary: 'Links between a user and its accounts (needs account links from the engine)',
      security: SECURITY,
      request: { params, query: z.object({ limit: z.coerce.number().int().min(1).max(20).default(20) }) },
      responses: {
        200: {
          description: 'linked profiles of the other collection',
          content: { 'application/json': { schema: z.object({ data: z.array(z.object({ to_collection: z.enum(['users', 'accounts']), external_ids: z.array(externalIdSchema) })) }) } },
        },
        ...errorResponses,
        501: { description: 'not_implemented: this engine keeps no account links', content: { 'application/json': { schema: profileErrorSchema } } },
      },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      const view = await profile(p.spaceId, p.collection, p.identifier);
      const links = await provided(deps.links, 'account links').links(p.spaceId, p.collection, view.id, q.limit);
      return c.json(
        {
          data: links.map((l) => ({
            to_collection: l.toCollection,
            external_ids: l.externalIds.map((x) => ({
              id: x.id,
              type: x.type,
              collection: x.collection,
              encoding: x.encoding,
              created_at: new Date(x.createdAt).toISOString(),
              source_id: x.sourceId ?? null,
            })),
          })),
        },
        200,
      );
    },
  );
}

/** Index of the first trait whose key is ≥ `key` (traits are sorted by key). */
function lowerBound(traits: readonly { key: string }[], key: string): number {
  let lo = 0;
  let hi = traits.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (traits[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function externalIdKey(x: ProfileExternalId): string {
  return `${x.type}\u0000${x.id}`;
}

function decodeExternalIdCursor(next: string): string {
  if (!next.startsWith('map_')) throw new HttpError(400, 'invalid_request_error', 'next is not a cursor of external_ids');
  const key = Buffer.from(next.slice(4), 'base64url').toString('utf8');
  if (!key.includes('\u0000')) throw new HttpError(400, 'invalid_request_error', 'next is not a cursor of external_ids');
  return key;
}

/** `base64("<timestamp_ns>::<message_id>")` → the keyset position. */
function decodeEventCursor(next: string): { timestamp: number; messageId: string } {
  const text = Buffer.from(next, 'base64').toString('utf8');
  const m = /^(\d{1,25})::(.+)$/s.exec(text);
  if (m === null) throw new HttpError(400, 'invalid_request_error', 'next is not a cursor of events');
  return { timestamp: Number(BigInt(m[1]!) / 1_000_000n), messageId: m[2]! };
}

/** An optional source of the service, or 501 `not_implemented` naming what this service was started without. */
function provided<T>(source: T | undefined, what: string): T {
  if (source === undefined) throw new HttpError(501, 'not_implemented', `this Flock service runs without ${what}`);
  return source;
}
