/** A space — one tenant: its own profiles, definitions and event subjects — and the write keys that send into it. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { identityRules, type IdentityRules, type IdentityRulesConfig } from '../identity/rules.ts';

/** Space ids become part of NATS subjects (`flock.events.<space>.<partition>`): no dots, spaces or wildcards. */
export const spaceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'a space id is 1–64 letters, digits, "_" or "-"' });

/** A write key as configured: the bare key, or the key with the id of the source it stands for. */
export const writeKeyConfigSchema = z.union([
  z.string().min(1, { error: 'a write key must not be empty' }),
  z.object({
    key: z.string().min(1, { error: 'a write key must not be empty' }),
    sourceId: z.string().min(1).optional(),
  }),
]);

/** A secret token (Profile API access token, management API token). */
const tokenSchema = z.string().min(8, { error: 'a token must be at least 8 characters' });

export const spaceConfigSchema = z.object({
  id: spaceIdSchema,
  name: z.string().min(1),
  writeKeys: z.array(writeKeyConfigSchema).default([]),
  /** Profile API: HTTP Basic `<token>:`; read-only access to the space's profiles. */
  accessTokens: z.array(tokenSchema).default([]),
  /** management API: `Authorization: Bearer <token>`; definitions, statuses, explorer. */
  managementTokens: z.array(tokenSchema).default([]),
  /** Profile API requests per second for this space (0 = no limit); default: the service's `--profile-rate-limit`. */
  profileRateLimit: z.number().min(0).optional(),
  /** identity resolution rules (engine/identity/README.md); default Segment's. */
  identity: z.record(z.string(), z.unknown()).optional(),
});
export type SpaceConfig = z.input<typeof spaceConfigSchema>;

export interface Space {
  readonly id: string;
  readonly name: string;
}

/** What a write key grants: which space it writes to, as which source. */
export interface WriteKeyGrant {
  readonly space: Space;
  readonly sourceId: string;
  /** the space's identity rules, which decide what ingest refuses as identifying nobody; undefined: Segment's defaults. */
  readonly identity?: IdentityRules;
}

/** A space with its write keys resolved (every key has a source id) and its read tokens. */
export interface SpaceWithKeys extends Space {
  readonly writeKeys: readonly { readonly key: string; readonly sourceId: string }[];
  /** Profile API access tokens (HTTP Basic). Write keys never read. */
  readonly accessTokens?: readonly string[];
  /** management API tokens (Bearer). */
  readonly managementTokens?: readonly string[];
  /** Profile API requests per second for this space; undefined: the service default. */
  readonly profileRateLimit?: number;
  /** identity resolution rules as configured (validated); undefined: Segment's defaults. */
  readonly identity?: IdentityRulesConfig;
}

/** The spaces a spaces file holds: `{ "spaces": [...] }` or the bare array. Ids and write keys are unique. */
export const spacesFileSchema = z
  .preprocess((value) => (Array.isArray(value) ? { spaces: value } : value), z.object({ spaces: z.array(spaceConfigSchema) }))
  .transform(({ spaces }): SpaceWithKeys[] =>
    spaces.map((space) => ({
      id: space.id,
      name: space.name,
      writeKeys: space.writeKeys.map((entry) =>
        typeof entry === 'string'
          ? { key: entry, sourceId: derivedSourceId(entry) }
          : { key: entry.key, sourceId: entry.sourceId ?? derivedSourceId(entry.key) },
      ),
      accessTokens: space.accessTokens,
      managementTokens: space.managementTokens,
      ...(space.profileRateLimit === undefined ? {} : { profileRateLimit: space.profileRateLimit }),
      ...(space.identity === undefined ? {} : { identity: space.identity as IdentityRulesConfig }),
    })),
  )
  .superRefine((spaces, ctx) => {
    const ids = new Set<string>();
    // one set for every secret: a write key that were also an access token would let writers read.
    const secrets = new Set<string>();
    spaces.forEach((space, i) => {
      if (ids.has(space.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `space id "${space.id}" is used twice` });
      ids.add(space.id);
      if (space.identity !== undefined) {
        const checked = identityRules(space.identity);
        if (!checked.ok) for (const issue of checked.issues) ctx.addIssue({ code: 'custom', path: [i, 'identity', ...issue.path.split('.')], message: `${issue.code}: ${issue.message}` });
      }
      const lists = [
        ['writeKeys', 'a write key', space.writeKeys.map((entry) => entry.key)],
        ['accessTokens', 'an access token', space.accessTokens ?? []],
        ['managementTokens', 'a management token', space.managementTokens ?? []],
      ] as const;
      for (const [field, what, secretsOfList] of lists) {
        secretsOfList.forEach((secret, j) => {
          // the message names the space, never the secret: config errors end up in logs.
          if (secrets.has(secret)) ctx.addIssue({ code: 'custom', path: [i, field, j], message: `${what} of space "${space.id}" is used twice` });
          secrets.add(secret);
        });
      }
    });
  });

/**
 * A stable source id for a key configured without one. A hash, not the key: source ids are stored
 * in every event and shown in the API, write keys are secrets.
 */
export function derivedSourceId(writeKey: string): string {
  return `src_${createHash('sha256').update(writeKey).digest('hex').slice(0, 16)}`;
}

/** The development default when no spaces are configured: never use it on a reachable host. */
export const DEVELOPMENT_SPACE: SpaceWithKeys = {
  id: 'spa_default',
  name: 'Default (development)',
  writeKeys: [{ key: 'dev_write_key', sourceId: 'src_default' }],
  accessTokens: ['dev_access_token'],
  managementTokens: ['dev_management_token'],
};
