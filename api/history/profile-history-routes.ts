/**
 * History on the Profile API (its auth, identifiers and error envelope): a profile's timeline of
 * enters, exits and trait changes, its audiences and computed traits as of an instant, and why it is
 * in or out of an audience (or has a trait's value) at an instant.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  ExplainError,
  explainProfile,
  historyRange,
  historyVersion,
  outputOf,
  ProfileStoreUnavailableError,
  unescapeKeys,
  type CheckpointStore,
  type Collection,
  type ConditionExplanation,
  type DefinitionRegistry,
  type EventSource,
  type HistoryEntry,
  type HistoryVersion,
  type ProfileLocator,
  type StoreHandle,
} from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import { boundedParam, MAX_PATH_ID_LENGTH, profileIdentifierParam } from '../path-params.ts';
import { isoTimeSchema } from '../management/schemas.ts';
import { checkInstant, decodeHistoryCursor, encodeHistoryCursor, engineStore, PROFILE_CODES, presentCause, presentEvent } from './history-present.ts';

export interface ProfileHistoryDeps {
  readonly registry: DefinitionRegistry;
  readonly store: StoreHandle;
  readonly locator: ProfileLocator;
  /** the event log by position: explanations replay a profile's events; without it they answer 501. */
  readonly events?: EventSource | undefined;
}

const SECURITY = [{ accessToken: [] }];
const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const errors = {
  400: { description: 'validation_error, invalid_request_error (a bad cursor), instant_out_of_retention, instant_not_computed', content: { 'application/json': { schema: errorSchema } } },
  401: { description: 'authentication_error', content: { 'application/json': { schema: errorSchema } } },
  404: { description: 'not_found: no such profile or definition', content: { 'application/json': { schema: errorSchema } } },
  429: { description: 'rate_limit_error (Retry-After)', content: { 'application/json': { schema: errorSchema } } },
  503: { description: "service_unavailable: the engine's state is not readable yet", content: { 'application/json': { schema: errorSchema } } },
};
const params = z.object({
  spaceId: z.string(),
  collection: z.enum(['users', 'accounts'], { error: 'the collection is "users" or "accounts"' }),
  identifier: profileIdentifierParam,
});
const keyList = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : new Set(s.split(',').map((x) => x.trim()).filter((x) => x !== ''))));
const timelineCursor = z.object({ t: z.number(), d: z.string(), v: z.number().int() });
const causeSchema = z.object({ type: z.enum(['event', 'time', 'merge', 'version']), message_id: z.string().optional(), from: z.number().int().optional() }).nullable();

export function profileHistoryRoutes(router: OpenAPIHono, deps: ProfileHistoryDeps): void {
  const base = '/v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}';
  const tags = ['Profile API: history'];

  /** The profile the identifier names, with the engine's state: 400, 404 or 503 otherwise. */
  const locate = (space: string, collection: Collection, identifier: string): { profileId: string; store: CheckpointStore } => {
    let located;
    try {
      located = deps.locator.locate(space, collection, identifier);
    } catch (error) {
      if (error instanceof ProfileStoreUnavailableError) throw new HttpError(503, 'service_unavailable', error.message, { 'Retry-After': '1' });
      throw error;
    }
    if (!located.ok) throw located.code === 'invalid_identifier' ? new HttpError(400, 'validation_error', located.message) : new HttpError(404, 'not_found', 'Profile was not found.');
    const store = engineStore(deps.store, PROFILE_CODES);
    if (store.loadProfileCore(space, located.profileId) === undefined) throw new HttpError(404, 'not_found', 'Profile was not found.');
    return { profileId: located.profileId, store };
  };
  /** Each definition of the space with a serving version (and history), by key. */
  const served = (space: string, kinds: 'audience' | 'computed_trait' | undefined) =>
    deps.registry.served(space).filter((d) => (kinds === undefined ? true : kinds === 'audience' ? d.kind === 'audience' : d.kind === 'trait'));

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/timeline`,
      tags,
      summary: "A profile's enters, exits and computed-trait changes, each at its event-time instant with its cause",
      security: SECURITY,
      request: {
        params,
        query: z.object({
          start: isoTimeSchema.optional(),
          end: isoTimeSchema.optional(),
          include: keyList,
          class: z.enum(['audience', 'computed_trait']).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          sort: z.enum(['asc', 'desc']).default('desc'),
          next: z.string().optional(),
        }),
      },
      responses: {
        200: {
          description: 'changes of the serving version of each audience and computed trait, newest first unless `sort=asc`; `next` continues',
          content: {
            'application/json': {
              schema: z.object({
                data: z.array(
                  z.object({
                    at: z.string(),
                    key: z.string(),
                    class: z.enum(['audience', 'computed_trait']),
                    definition_id: z.string(),
                    version: z.number().int(),
                    kind: z.enum(['enter', 'exit', 'trait']),
                    value: z.unknown().optional(),
                    cause: causeSchema,
                  }),
                ),
                cursor: z.object({ url: z.string(), has_more: z.boolean(), next: z.string(), limit: z.number().int() }),
              }),
            },
          },
        },
        ...errors,
      },
    }),
    (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      const { profileId, store } = locate(p.spaceId, p.collection, p.identifier);
      const after = q.next === undefined || q.next === '' ? undefined : decodeHistoryCursor(q.next, timelineCursor, 'the timeline');
      const definitions = served(p.spaceId, q.class).filter((d) => q.include === undefined || q.include.has(d.key));
      const versions: HistoryVersion[] = definitions.map((d) => ({ definitionId: d.id, version: d.version, kind: d.kind, key: d.key }));
      const page = store.history.timeline(p.spaceId, profileId, {
        sort: q.sort,
        limit: q.limit,
        versions,
        ...(q.start === undefined ? {} : { start: q.start }),
        ...(q.end === undefined ? {} : { end: q.end }),
        ...(after === undefined ? {} : { after: { at: after.t, definitionId: after.d, version: after.v } }),
      });
      const byId = new Map(definitions.map((d) => [d.id, d]));
      const last = page.entries.at(-1);
      const next = page.hasMore && last !== undefined ? encodeHistoryCursor({ t: last.at, d: last.definitionId, v: last.version }) : '';
      const search = new URLSearchParams({ limit: String(q.limit), sort: q.sort });
      if (q.include !== undefined) search.set('include', [...q.include].join(','));
      if (q.class !== undefined) search.set('class', q.class);
      if (q.start !== undefined) search.set('start', new Date(q.start).toISOString());
      if (q.end !== undefined) search.set('end', new Date(q.end).toISOString());
      if (next !== '') search.set('next', next);
      return c.json(
        {
          data: page.entries.map((e) => {
            const d = byId.get(e.definitionId)!;
            return {
              at: new Date(e.at).toISOString(),
              key: d.key,
              class: d.kind === 'audience' ? ('audience' as const) : ('computed_trait' as const),
              definition_id: e.definitionId,
              version: e.version,
              kind: e.kind,
              ...(e.kind === 'trait' ? { value: unescapeKeys(e.value ?? null) } : {}),
              cause: presentCause(e.cause, 'snake'),
            };
          }),
          cursor: { url: `${c.req.path}?${search}`, has_more: page.hasMore, next, limit: q.limit },
        } as never,
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/as_of`,
      tags,
      summary: "A profile's audiences and computed-trait values as of an instant",
      security: SECURITY,
      request: {
        params,
        query: z.object({ at: isoTimeSchema.optional(), include: keyList, class: z.enum(['audience', 'computed_trait']).optional() }),
      },
      responses: {
        200: {
          description:
            'the values at `at` (default: what the engine has computed up to), as `/traits` shows them: an audience `true` for a member, `false` only when named in `include`; definitions whose history starts after `at` are left out',
          content: { 'application/json': { schema: z.object({ at: z.string(), traits: z.record(z.string(), z.unknown()) }) } },
        },
        ...errors,
      },
    }),
    (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      const { profileId, store } = locate(p.spaceId, p.collection, p.identifier);
      const t = q.at ?? store.meta().watermark;
      checkInstant(t, historyRange(store, Number.NEGATIVE_INFINITY), PROFILE_CODES);
      const traits: Record<string, unknown> = {};
      const computed = deps.registry.computeSet().get(p.spaceId) ?? [];
      for (const d of served(p.spaceId, q.class)) {
        if (q.include !== undefined && !q.include.has(d.key)) continue;
        const record = deps.registry.get(p.spaceId, d.id);
        const info = record === undefined ? undefined : historyVersion(deps.registry, record, d.version, computed);
        if (info === undefined || t < info.since) continue;
        const entry = store.history.entryAt(p.spaceId, d.id, d.version, profileId, t);
        const value = entry === undefined ? undefined : outputOf(entry);
        if (d.kind === 'audience') {
          if (value === true || q.include !== undefined) traits[d.key] = value === true;
        } else if (value !== undefined) traits[d.key] = unescapeKeys(value);
      }
      return c.json({ at: new Date(t).toISOString(), traits }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: `${base}/explain/{key}`,
      tags,
      summary: 'Why a profile is in or out of an audience (or has a computed trait’s value) at an instant: each sub-condition’s value and the events behind the last change',
      security: SECURITY,
      request: { params: params.extend({ key: boundedParam(MAX_PATH_ID_LENGTH, 'key_too_long', 'a key') }), query: z.object({ at: isoTimeSchema.optional() }) },
      responses: {
        200: { description: 'the explanation, beside what the history recorded', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
        ...errors,
        422: { description: 'unsupported: account-level definitions are not explained', content: { 'application/json': { schema: errorSchema } } },
        501: { description: 'not_implemented: this service reads no event log', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      const { profileId, store } = locate(p.spaceId, p.collection, p.identifier);
      const record = deps.registry.byKey(p.spaceId, p.key);
      if (record === undefined) throw new HttpError(404, 'not_found', `no audience or computed trait "${p.key}" in space ${p.spaceId}`);
      const info = historyVersion(deps.registry, record);
      if (info === undefined) throw new HttpError(404, 'not_found', `"${p.key}" has no version computed yet`);
      if (info.inputs === undefined) throw new HttpError(404, 'not_found', `"${p.key}" is not computed (disabled)`);
      if (deps.events === undefined) throw new HttpError(501, 'not_implemented', 'this service reads no event log: explanations need the profile’s events');
      const t = q.at ?? store.meta().watermark;
      checkInstant(t, historyRange(store, info.since), PROFILE_CODES);
      let result;
      try {
        result = await explainProfile(store, deps.events, p.spaceId, info.inputs, profileId, t);
      } catch (error) {
        if (error instanceof ExplainError) throw new HttpError(422, error.code, error.message);
        throw error;
      }
      const { explanation: x, recorded, missing } = result;
      const value = record.kind === 'audience' ? x.value === true : unescapeKeys(x.value ?? null);
      const recordedValue = recorded === undefined ? (record.kind === 'audience' ? false : null) : presentRecorded(recorded, record.kind)!['value'];
      return c.json(
        {
          at: new Date(t).toISOString(),
          key: record.key,
          class: record.kind === 'audience' ? 'audience' : 'computed_trait',
          definition_id: record.id,
          version: info.version,
          value,
          // false: the profile had no event by then (in nothing; the tree is not its)
          known: x.known,
          summary: x.summary,
          condition: presentCondition(x.condition),
          last_change: x.lastChange === undefined ? null : { at: new Date(x.lastChange.at).toISOString(), kind: x.lastChange.kind, ...(x.lastChange.kind === 'trait' ? { value: unescapeKeys(x.lastChange.value ?? null) } : {}), cause: presentCause(x.lastChange.cause, 'snake') },
          events: x.events.map((e) => presentEvent(e.event)),
          recorded: presentRecorded(recorded, record.kind),
          // the explanation replays the profile's indexed events; the history is what the engine recorded
          consistent: JSON.stringify(recordedValue) === JSON.stringify(value),
          missing_events: missing,
        },
        200,
      );
    },
  );
}

/** The history's entry at the instant: the value since its last change (audiences: membership). */
function presentRecorded(entry: HistoryEntry | undefined, kind: 'audience' | 'trait'): Record<string, unknown> | null {
  if (entry === undefined) return null;
  const value = kind === 'audience' ? outputOf(entry) === true : unescapeKeys(outputOf(entry) ?? null);
  return { value, since: new Date(entry.at).toISOString(), kind: entry.kind, cause: presentCause(entry.cause, 'snake') };
}

function presentCondition(c: ConditionExplanation): Record<string, unknown> {
  switch (c.kind) {
    case 'and':
    case 'or':
      return { kind: c.kind, result: c.result, operands: c.operands.map(presentCondition) };
    case 'not':
      return { kind: 'not', result: c.result, operand: presentCondition(c.operand) };
    case 'comparison':
      return { kind: 'comparison', result: c.result, text: c.text, subject: c.subject, value: unescapeKeys(c.value ?? null), comparator: c.comparator, args: c.args, summary: c.summary };
  }
}
