/** The management API's zod schemas (Segment Public API shapes): requests are validated and the OpenAPI document generated from them. */
import { z } from 'zod';
import { BATCH_INTERVALS, DEFINITION_STATUSES } from '../../engine/index.ts';
import { boundedParam, MAX_PATH_ID_LENGTH } from '../path-params.ts';

export const targetTypeSchema = z.enum(['USERS', 'ACCOUNTS']);
export const keySchema = z.string().regex(/^[a-z0-9_]{1,120}$/, { error: 'a key is 1–120 lowercase letters, digits or "_"' });
const querySchema = z.string().min(1, { error: 'the query is empty' }).max(20_000);

const optionsInput = z.strictObject({
  includeHistoricalData: z.boolean().optional(),
  backfillEventDataDays: z.number().int().min(1).max(3650).optional(),
  includeAnonymousUsers: z.boolean().optional(),
});

const cadenceInput = z.strictObject({
  type: z.enum(['REALTIME', 'BATCH']),
  interval: z.enum(BATCH_INTERVALS).optional(),
});

export const createDefinitionSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    /** default: the name in snake_case. */
    key: keySchema.optional(),
    description: z.string().max(2000).optional(),
    enabled: z.boolean().optional(),
    definition: z.strictObject({ query: querySchema, type: targetTypeSchema.default('USERS') }),
    options: optionsInput.optional(),
    computeCadence: cadenceInput.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.options?.backfillEventDataDays !== undefined && body.options.includeHistoricalData !== true) {
      ctx.addIssue({ code: 'custom', path: ['options', 'backfillEventDataDays'], message: 'backfillEventDataDays needs includeHistoricalData: true' });
    }
    if (body.computeCadence?.interval !== undefined && body.computeCadence.type !== 'BATCH') {
      ctx.addIssue({ code: 'custom', path: ['computeCadence', 'interval'], message: 'an interval is only for BATCH' });
    }
  })
  .meta({ id: 'CreateDefinitionInput' });

export const updateDefinitionSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(2000).optional(),
    enabled: z.boolean().optional(),
    definition: z.strictObject({ query: querySchema.optional(), type: targetTypeSchema.optional() }).optional(),
    options: optionsInput.optional(),
    computeCadence: z.strictObject({ type: z.enum(['REALTIME', 'BATCH']).optional(), interval: z.enum(BATCH_INTERVALS).optional() }).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { error: 'nothing to update' })
  .meta({ id: 'UpdateDefinitionInput' });

export const previewInputSchema = z
  .strictObject({
    definition: z.strictObject({ query: querySchema, type: targetTypeSchema.default('USERS') }),
    options: optionsInput.optional(),
    /** preview an edit: the id of the definition it would change (the answer adds who would enter and exit). */
    compareTo: z.string().min(1).optional(),
  })
  .meta({ id: 'PreviewInput' });

const versionSchema = z
  .object({
    version: z.number().int(),
    query: z.string(),
    status: z.enum(DEFINITION_STATUSES),
    createdAt: z.string(),
    updatedAt: z.string(),
    progress: z.number().optional(),
    eta: z.string().optional(),
    failureReason: z.string().optional(),
    supersededAt: z.string().optional(),
  })
  .meta({ id: 'DefinitionVersion' });

const definitionFields = {
  id: z.string(),
  spaceId: z.string(),
  key: z.string(),
  name: z.string(),
  description: z.string(),
  enabled: z.boolean(),
  definition: z.object({ query: z.string(), type: targetTypeSchema }),
  options: z.object({ includeHistoricalData: z.boolean(), backfillEventDataDays: z.number().optional(), includeAnonymousUsers: z.boolean() }),
  computeCadence: z.object({ type: z.enum(['REALTIME', 'BATCH']), interval: z.enum(BATCH_INTERVALS).optional() }),
  status: z.enum(DEFINITION_STATUSES),
  /** the newest version's backfill progress (0…1), while it runs. */
  progress: z.number().optional(),
  eta: z.string().optional(),
  failureReason: z.string().optional(),
  /** profiles in the audience (with a value, for a trait) in the serving version; null before one serves. */
  size: z.object({ count: z.number().int().nullable(), type: targetTypeSchema }),
  version: z.number().int(),
  liveVersion: z.number().int().nullable(),
  versions: z.array(versionSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
};

export const audienceSchema = z.object({ ...definitionFields, audienceType: targetTypeSchema }).meta({ id: 'Audience' });
export const computedTraitSchema = z.object(definitionFields).meta({ id: 'ComputedTrait' });

export const paginationOutputSchema = z
  .object({ current: z.string(), next: z.string().nullable(), previous: z.string().nullable(), totalEntries: z.number().int().optional() })
  .meta({ id: 'PaginationOutput' });

export const paginationQuerySchema = z.object({
  'pagination.count': z.coerce.number().int().min(1).max(200).default(50),
  'pagination.cursor': z.string().min(1).optional(),
});

export const referenceSchema = z.object({ id: z.string(), key: z.string(), name: z.string() }).meta({ id: 'DefinitionReference' });

export const previewSchema = z
  .object({
    id: z.string(),
    status: z.enum(['RUNNING', 'COMPLETED', 'FAILED']),
    definition: z.object({ query: z.string(), type: targetTypeSchema }),
    options: z.object({ includeHistoricalData: z.boolean(), backfillEventDataDays: z.number().optional(), includeAnonymousUsers: z.boolean() }),
    createdAt: z.string(),
    size: z.object({ count: z.number().int() }).optional(),
    results: z.array(z.object({ id: z.string(), value: z.unknown().optional() })).optional(),
    compareTo: z.string().optional(),
    /** an edit's preview: profiles that would enter and exit (computed traits: whose value would change). */
    difference: z.object({ enter: z.number().int(), exit: z.number().int(), changed: z.number().int() }).optional(),
    failureReason: z.string().optional(),
  })
  .meta({ id: 'Preview' });

export const memberSchema = z.object({ profileId: z.string(), value: z.unknown(), since: z.string() }).meta({ id: 'Member' });

export const recentChangeSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['enter', 'exit', 'trait']),
    profileId: z.string(),
    version: z.number().int(),
    at: z.string(),
    value: z.unknown().optional(),
    previous: z.unknown().optional(),
  })
  .meta({ id: 'RecentChange' });

export const sizePointSchema = z.object({ at: z.string(), count: z.number().int() }).meta({ id: 'SizePoint' });

/** An instant in a query string: ISO-8601, as epoch ms. */
export const isoTimeSchema = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'an ISO-8601 time, e.g. 2025-01-31T12:00:00Z' })
  .transform((s) => Date.parse(s));

/** The query of a size series: a range in event time and one point per minute, hour or day. */
export const sizeQuerySchema = z.object({
  start: isoTimeSchema.optional(),
  end: isoTimeSchema.optional(),
  granularity: z.enum(['minute', 'hour', 'day']).default('hour'),
});

export const publicApiErrorSchema = z
  .object({
    errors: z.array(
      z.object({ type: z.string(), message: z.string(), field: z.string().optional(), code: z.string().optional(), line: z.number().optional(), column: z.number().optional() }),
    ),
  })
  .meta({ id: 'PublicApiErrors' });

export const spaceParams = z.object({ spaceId: z.string() });
/** `{id}` of a definition or preview; one over MAX_PATH_ID_LENGTH answers 400 `id-too-long`. */
export const idParams = z.object({ spaceId: z.string(), id: boundedParam(MAX_PATH_ID_LENGTH, 'id-too-long', 'an id') });
