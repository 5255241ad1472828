/** The zod schemas of the destinations API: a destination (its settings flat, checked per kind), a connection, status and dead letters. */
import { z } from 'zod';
import { DESTINATION_KINDS, ID_SYNC_STRATEGIES, LIMIT_PRESETS } from '../../engine/index.ts';
import { boundedParam, MAX_PATH_ID_LENGTH } from '../path-params.ts';

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });
const header = z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(2000));

const settingsInput = z.strictObject({
  /** webhook, segment (base URL: /v1/batch is added), list: where to POST; nats: the server URL. */
  url: z.string().min(1).max(2000).optional(),
  headers: header.optional(),
  subject: z.string().regex(/^[A-Za-z0-9_$.>*-]{1,200}$/, { error: 'a NATS subject' }).optional(),
  jetstream: z.boolean().optional(),
  identifier: z.string().regex(/^[a-z0-9_.]{1,100}$/).optional(),
  hashed: z.boolean().optional(),
  periodSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
  valuesPerRequest: z.number().int().min(1).max(100_000).optional(),
});

const limitsInput = z.strictObject({
  requestsPerSecond: z.number().min(0).max(100_000).optional(),
  eventsPerRequest: z.number().int().min(1).max(10_000).optional(),
  bytesPerRequest: z.number().int().min(1000).max(50_000_000).optional(),
  concurrency: z.number().int().min(1).max(64).optional(),
});

const retryInput = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).optional(),
  baseMs: z.number().int().min(1).max(600_000).optional(),
  maxMs: z.number().int().min(1).max(86_400_000).optional(),
  pauseAfterDeadLetters: z.number().int().min(1).max(10_000).optional(),
});

const namesInput = z.strictObject({
  entered: z.string().min(1).max(200).optional(),
  exited: z.string().min(1).max(200).optional(),
  computed: z.string().min(1).max(200).optional(),
});

const presetSchema = z.enum(Object.keys(LIMIT_PRESETS) as [string, ...string[]]);

export const createDestinationSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    kind: z.enum(DESTINATION_KINDS),
    enabled: z.boolean().optional(),
    settings: settingsInput,
    /** webhook/list: the HMAC signing secret; segment: the write key. Stored, never shown. */
    secret: z.string().min(1).max(500).optional(),
    preset: presetSchema.optional(),
    limits: limitsInput.optional(),
    retry: retryInput.optional(),
    names: namesInput.optional(),
  })
  .meta({ id: 'CreateDestinationInput' });

export const updateDestinationSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    enabled: z.boolean().optional(),
    settings: settingsInput.optional(),
    secret: z.string().min(1).max(500).optional(),
    preset: presetSchema.optional(),
    limits: limitsInput.optional(),
    retry: retryInput.optional(),
    names: namesInput.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { error: 'nothing to update' })
  .meta({ id: 'UpdateDestinationInput' });

export type SettingsInput = z.infer<typeof settingsInput>;
export { httpUrl };

export const destinationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(DESTINATION_KINDS),
    enabled: z.boolean(),
    settings: z.record(z.string(), z.unknown()),
    /** whether a secret is set (it is never shown). */
    hasSecret: z.boolean(),
    preset: z.string().optional(),
    limits: z.object({ requestsPerSecond: z.number(), eventsPerRequest: z.number(), bytesPerRequest: z.number(), concurrency: z.number() }),
    retry: z.object({ maxAttempts: z.number(), baseMs: z.number(), maxMs: z.number(), pauseAfterDeadLetters: z.number() }),
    names: z.object({ entered: z.string(), exited: z.string(), computed: z.string() }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Destination' });

export const createConnectionSchema = z
  .strictObject({
    /** the audience or computed trait (its id). */
    definitionId: z.string().min(1).max(200),
    identify: z.boolean().optional(),
    track: z.boolean().optional(),
    group: z.boolean().optional(),
    accountUsers: z.boolean().optional(),
    identifiers: z
      .array(z.strictObject({ type: z.string().regex(/^[a-z0-9_.]{1,100}$/), strategy: z.enum(ID_SYNC_STRATEGIES).default('all') }))
      .min(1)
      .max(20)
      .optional(),
    includeAnonymous: z.boolean().optional(),
    enrichTraits: z.array(z.string().min(1).max(200)).max(100).optional(),
    backfill: z.boolean().optional(),
  })
  .meta({ id: 'CreateConnectionInput' });

export const connectionSchema = z
  .object({
    id: z.string(),
    destinationId: z.string(),
    definitionId: z.string(),
    identify: z.boolean(),
    track: z.boolean(),
    group: z.boolean(),
    accountUsers: z.boolean(),
    identifiers: z.array(z.object({ type: z.string(), strategy: z.enum(ID_SYNC_STRATEGIES) })),
    includeAnonymous: z.boolean(),
    enrichTraits: z.array(z.string()),
    backfill: z.boolean(),
    backfillState: z.object({ done: z.boolean(), fromPosition: z.number().int() }).nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'DestinationConnection' });

export const statusSchema = z
  .object({
    destinationId: z.string(),
    state: z.enum(['running', 'paused', 'disabled', 'backfilling']),
    pauseReason: z.string().nullable(),
    pausedAt: z.string().nullable(),
    position: z.number().int().nullable(),
    lag: z.object({ changes: z.number().int().nullable(), seconds: z.number().nullable() }),
    delivered: z.number().int(),
    retrying: z.number().int(),
    failed: z.number().int(),
    requests: z.number().int(),
    deadLetters: z.number().int(),
    lastError: z.object({ message: z.string(), at: z.string() }).nullable(),
    lastAdvancedAt: z.string().nullable(),
    lastSyncAt: z.string().nullable(),
    /** event destinations: when the last complete identifier sweep started — identifiers gained before it have their profile's values. */
    identifiersCheckedAt: z.string().nullable(),
  })
  .meta({ id: 'DestinationStatus' });

export const deadLetterSchema = z
  .object({ id: z.number().int(), error: z.string(), attempts: z.number().int(), at: z.string(), messages: z.array(z.unknown()) })
  .meta({ id: 'DeadLetter' });

export const destinationParams = z.object({ spaceId: z.string(), id: boundedParam(MAX_PATH_ID_LENGTH, 'id-too-long', 'an id') });
export const connectionParams = destinationParams.extend({ connectionId: boundedParam(MAX_PATH_ID_LENGTH, 'id-too-long', 'an id') });
