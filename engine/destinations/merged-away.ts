/**
 * What a merged-away profile's last changes become. When identity resolution absorbs profile A into
 * B, the engine emits A's exits (and valueless traits) with a `merge` cause — but by the time they
 * are delivered A has no identifiers left in the graph: they all moved to B. So has any change of A
 * from before the merge that is delivered after it (a window exit of A, say, delivered once the
 * merge is checkpointed: the chaos run found those reaching nobody). Those changes go to
 * the identifiers A's values were sent to (the destination's ledger entry for A, with what a send
 * not committed before a crash noted ahead of it), in B's lane — the
 * runner first lets A's own earlier messages of the step be delivered — and then, in the same lane,
 * B's current value of the same definition follows to those identifiers (B now holds them). Every
 * later message of B comes after both in that lane, so a receiver keyed by one of them ends with
 * the survivor's value whatever the order of the log, the identifier sweep and B's own changes (the
 * chaos run found both one-lane versions racing: in A's lane, B's current value read a moment
 * before B's exit arrived after it; in B's lane without the wait, A's exit overtook A's enter).
 */
import type { Change } from '../runtime/change.ts';
import type { CheckpointStore } from '../store/checkpoint-store.ts';
import type { ConnectionRecord } from './destination-record.ts';
import { identifierKey } from './identifier-ledger.ts';
import type { ProfileIdentifier } from './identifiers.ts';
import { flipMessages, type Computation, type MessageTarget, type Outbound, type ProfileFacts } from './segment-messages.ts';

/** Segment's merge limit bounds a chain; a longer one is a corrupt graph (nothing is sent). */
const MAX_CHAIN = 1000;

/** The profile that absorbed `profileId` (following a chain of merges), or undefined if it was not absorbed. */
export function survivorOf(engine: Pick<CheckpointStore, 'identityMerge'>, space: string, profileId: string): string | undefined {
  let id = profileId;
  for (let hops = 0; hops < MAX_CHAIN; hops++) {
    const merge = engine.identityMerge(space, id);
    if (merge === undefined) return hops === 0 ? undefined : id;
    id = merge.into;
  }
  return undefined;
}

/** A ledger key (`type:value`) back as an identifier. */
function ledgerIdentifier(key: string): ProfileIdentifier {
  const colon = key.indexOf(':');
  return { type: key.slice(0, colon), value: key.slice(colon + 1), at: 0 };
}

export interface MergedAwayContext {
  readonly engine: CheckpointStore;
  readonly space: string;
  readonly target: MessageTarget;
  readonly facts: (profileId: string) => ProfileFacts;
  /** the destination's ledger entry of a profile (the step's writes in `sent` first). */
  readonly ledger: (profileId: string) => readonly string[] | undefined;
  /** the ledger entries to commit with the step's progress. */
  readonly sent: Map<string, string[]>;
}

/**
 * The messages for `change` of a profile absorbed by a merge — the merge's own changes and any
 * earlier change delivered after it (`ledger`: the identifiers its values went to; none: nothing
 * was sent, nothing to take back) — and the survivor, or undefined when the change's profile was
 * not absorbed (it is delivered the ordinary way). The caller first sends the survivor's current
 * values to the identifiers it gained (the merge gave it A's: its values of definitions A never
 * had must reach them too — the survivor's ledger, extended here, would otherwise say they had).
 */
export function mergedAwayMessages(
  ctx: MergedAwayContext,
  change: Change,
  value: unknown,
  computation: Computation,
  connection: ConnectionRecord,
  ledger: readonly string[] | undefined,
): { readonly survivor: string; readonly messages: Outbound[] } | undefined {
  if (change.collection !== 'users') return undefined;
  const survivor = survivorOf(ctx.engine, ctx.space, change.profileId);
  if (survivor === undefined) return undefined;
  if (ledger === undefined || ledger.length === 0) return { survivor, messages: [] };
  const identifiers = ledger.map(ledgerIdentifier);
  const sentTo = new Set(ledger);
  const formerly = (): ProfileFacts => ({ identifiers, graph: true, traits: ctx.facts(survivor).traits });
  // every identifier it was sent to hears the change, whatever the ID-sync strategy picks now
  const everyValue: ConnectionRecord = { ...connection, identifiers: connection.identifiers.map((i) => ({ ...i, strategy: 'all' as const })) };
  const out = flipMessages({ id: change.id, profileId: change.profileId, at: change.at, value }, computation, everyValue, ctx.target, formerly).map((o) => ({ ...o, profileId: survivor }));
  // A's identifiers are B's now, and B's values reach them: B's ledger says so (so B's own exits,
  // should B be absorbed in turn, reach them too)
  const survivors = ctx.sent.get(survivor) ?? ctx.ledger(survivor) ?? [];
  if (ledger.some((k) => !survivors.includes(k))) ctx.sent.set(survivor, [...new Set([...survivors, ...ledger])].sort());
  const row = ctx.engine.output(ctx.space, connection.definitionId, survivor);
  if (row !== undefined) {
    const current = { id: `merged.${change.id}.${row.at}`, profileId: survivor, at: row.at, value: computation.kind === 'audience' ? true : row.value };
    out.push(...flipMessages(current, computation, connection, ctx.target, ctx.facts, (i) => sentTo.has(identifierKey(i))));
  }
  return { survivor, messages: out };
}
