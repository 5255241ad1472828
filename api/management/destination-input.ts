/** Turns a destinations API body into a destination's settings, limits, retry policy and names, or problems naming the field. */
import {
  DEFAULT_LIMITS,
  DEFAULT_LIST_PERIOD_MS,
  DEFAULT_NAMES,
  DEFAULT_RETRY,
  presetLimits,
  type DestinationKind,
  type DestinationRecord,
  type DestinationSettings,
} from '../../engine/index.ts';
import type { HttpIssue } from '../http-error.ts';
import type { SettingsInput } from './destination-schemas.ts';

/** Which settings each kind takes (and which of them it needs). */
const FIELDS: Record<DestinationKind, { readonly allowed: readonly (keyof SettingsInput)[]; readonly required: readonly (keyof SettingsInput)[] }> = {
  webhook: { allowed: ['url', 'headers'], required: ['url'] },
  segment: { allowed: ['url'], required: ['url'] },
  nats: { allowed: ['url', 'subject', 'jetstream'], required: ['url', 'subject'] },
  list: { allowed: ['url', 'identifier', 'hashed', 'periodSeconds', 'valuesPerRequest'], required: ['url', 'identifier'] },
};

type Loose<T> = { readonly [K in keyof T]?: T[K] | undefined };

export interface DestinationInput {
  readonly settings?: SettingsInput | undefined;
  readonly secret?: string | undefined;
  readonly preset?: string | undefined;
  readonly limits?: Loose<DestinationRecord['limits']> | undefined;
  readonly retry?: Loose<DestinationRecord['retry']> | undefined;
  readonly names?: Loose<DestinationRecord['names']> | undefined;
}

/** `over` without its undefined fields, over `base`. */
function merge<T extends object>(base: T, over: Loose<T> | undefined): T {
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

type Built = Pick<DestinationRecord, 'settings' | 'limits' | 'retry' | 'names'> & { readonly preset?: string; readonly secret?: string };

/** The fields of a destination of `kind` from `input` over `current` (an update) or the defaults. */
export function buildDestination(kind: DestinationKind, input: DestinationInput, current?: DestinationRecord): { ok: true; value: Built } | { ok: false; issues: HttpIssue[] } {
  const issues: HttpIssue[] = [];
  const previous = current === undefined ? {} : flatSettings(current.settings);
  const s = merge<SettingsInput>(previous, input.settings);
  for (const key of Object.keys(input.settings ?? {}) as (keyof SettingsInput)[]) {
    if (!FIELDS[kind].allowed.includes(key)) issues.push({ field: `settings.${key}`, message: `settings.${key} does not apply to a ${kind} destination (it takes ${FIELDS[kind].allowed.join(', ')})` });
  }
  for (const key of FIELDS[kind].required) if (s[key] === undefined) issues.push({ field: `settings.${key}`, message: `a ${kind} destination needs settings.${key}` });
  if (s.url !== undefined) {
    const scheme = kind === 'nats' ? /^(nats|tls):\/\//.test(s.url) || /^[^:/]+:\d+$/.test(s.url) : /^https?:\/\/[^\s]+$/.test(s.url) && URL.canParse(s.url);
    if (!scheme) issues.push({ field: 'settings.url', message: kind === 'nats' ? 'settings.url: a NATS server (nats://host:port)' : 'settings.url: an http(s) URL' });
  }
  const secret = input.secret ?? current?.secret;
  if (kind === 'segment' && secret === undefined) issues.push({ field: 'secret', message: 'a segment destination needs its write key as "secret"' });
  const preset = input.preset ?? current?.preset;
  const base = preset === undefined ? (current?.limits ?? DEFAULT_LIMITS) : presetLimits(preset, current?.limits ?? DEFAULT_LIMITS)!;
  const limits = merge(base, input.limits);
  const retry = merge(current?.retry ?? DEFAULT_RETRY, input.retry);
  if (retry.maxMs < retry.baseMs) issues.push({ field: 'retry.maxMs', message: 'retry.maxMs must be at least retry.baseMs' });
  if (issues.length > 0) return { ok: false, issues };
  let settings: DestinationSettings;
  switch (kind) {
    case 'webhook':
      settings = { kind, webhook: { url: s.url!, ...(s.headers === undefined ? {} : { headers: s.headers }) } };
      break;
    case 'segment':
      settings = { kind, segment: { url: s.url! } };
      break;
    case 'nats':
      settings = { kind, nats: { url: s.url!, subject: s.subject!, jetstream: s.jetstream ?? false } };
      break;
    case 'list':
      settings = {
        kind,
        list: { url: s.url!, identifier: s.identifier!, hashed: s.hashed ?? false, periodMs: (s.periodSeconds ?? DEFAULT_LIST_PERIOD_MS / 1000) * 1000, valuesPerRequest: s.valuesPerRequest ?? 10_000 },
      };
      break;
  }
  return {
    ok: true,
    value: {
      settings,
      limits,
      retry,
      names: merge(current?.names ?? DEFAULT_NAMES, input.names),
      ...(preset === undefined ? {} : { preset }),
      ...(secret === undefined ? {} : { secret }),
    },
  };
}

/** A destination's settings as the API shows and takes them (flat). */
export function flatSettings(settings: DestinationSettings): SettingsInput {
  switch (settings.kind) {
    case 'webhook':
      return { url: settings.webhook.url, ...(settings.webhook.headers === undefined ? {} : { headers: { ...settings.webhook.headers } }) };
    case 'segment':
      return { url: settings.segment.url };
    case 'nats':
      return { ...settings.nats };
    case 'list': {
      const { periodMs, ...rest } = settings.list;
      return { ...rest, periodSeconds: periodMs / 1000 };
    }
  }
}
