/** The JSON form of a normalised event, for producers that publish straight to the event subjects without Flock's codec. */
import { z } from 'zod';
import { CorruptRecordError } from '../log/log-errors.ts';
import { EVENT_TYPES, type FlockEvent } from './model.ts';
import { escapeKeys } from './safe-keys.ts';

const object = z.record(z.string(), z.unknown()).nullable().default(null);
const id = z.string().min(1).max(200).nullable().default(null);

/**
 * A FlockEvent as JSON: times are epoch milliseconds; every field but `type`, `messageId` and
 * `timestamp` may be left out (null); `space` may be left out — it is the subject's space.
 * Page/screen calls carry `event: "Page Viewed"`/`"Screen Viewed"` like normalised events do.
 */
export const jsonEventSchema = z
  .object({
    space: z.string().min(1).optional(),
    type: z.enum(EVENT_TYPES),
    event: z.string().min(1).nullable().default(null),
    messageId: z.string().min(1).max(200),
    userId: id,
    anonymousId: id,
    groupId: id,
    previousId: id,
    traits: object,
    properties: object,
    context: object,
    integrations: object,
    timestamp: z.number().finite(),
    receivedAt: z.number().finite().optional(),
    sourceId: id,
  })
  .refine((e) => e.userId !== null || e.anonymousId !== null || e.type === 'group', { message: 'needs userId or anonymousId' })
  .refine((e) => e.type !== 'track' || e.event !== null, { message: 'a track event needs `event`' });

/** Whether a record is JSON (`{…}`) rather than the codec's framing (its first byte is the format, 1). */
export function isJsonRecord(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === 0x7b;
}

/** Decodes a JSON record published on `<space>.<partition>`; a bad one is a CorruptRecordError (the engine skips it). */
export function decodeJsonEvent(data: Uint8Array, key: string): FlockEvent {
  const space = key.slice(0, key.indexOf('.') === -1 ? undefined : key.indexOf('.'));
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (error) {
    throw new CorruptRecordError(`not JSON: ${(error as Error).message}`);
  }
  const parsed = jsonEventSchema.safeParse(json);
  if (!parsed.success) {
    throw new CorruptRecordError(`not a Flock event: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  if (e.space !== undefined && e.space !== space) throw new CorruptRecordError(`event space ${e.space} published on the subject of space ${space}`);
  // (as ingest stores user keys: safe-keys.ts)
  return {
    ...e,
    traits: escapeKeys(e.traits),
    properties: escapeKeys(e.properties),
    context: escapeKeys(e.context),
    integrations: escapeKeys(e.integrations),
    space,
    receivedAt: e.receivedAt ?? e.timestamp,
  };
}
