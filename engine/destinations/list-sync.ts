/**
 * A list destination's step: every `periodMs` (and at once for a new connection), each connected
 * audience's members — users of matching accounts for account audiences — become the set of their
 * values of the chosen identifier (optionally hashed); the difference to the list as last
 * acknowledged is POSTed as `{audience, added, removed}` requests of at most `valuesPerRequest`
 * values. The first sync is therefore the full list; each acknowledged request updates the stored list
 * (a dead-lettered one does not, so the next sync sends its values again).
 */
import { sendBatch, type LaneDeps } from './delivery-lanes.ts';
import { destinationLoop, type RunnerDeps } from './destination-loop.ts';
import type { ConnectionRecord, DestinationRecord, ListSettings } from './destination-record.ts';
import { httpPoster } from './http-transport.ts';
import { profileIdentifiers } from './identifiers.ts';
import { listDifference, listValue } from './list-values.ts';
import { accountUserIds, computationOf } from './destination-runner.ts';
import type { CheckpointStore } from '../store/checkpoint-store.ts';

export function runListDestination(space: string, id: string, deps: RunnerDeps, signal: AbortSignal): Promise<void> {
  return destinationLoop(space, id, deps, signal, ({ lanes, persist }) => async (d, engine) => {
    if (d.settings.kind !== 'list') return false;
    const settings = d.settings.list;
    // A replayed dead letter is not posted as it was (an old `removed` could undo a later add): the
    // stored list never took its values, so a sync now sends them again, as they are now.
    const replays = deps.store.replays(id);
    for (const letter of replays) await deps.store.replayDone(id, letter.id);
    const connections = deps.store.connections(id);
    const fresh = connections.filter((c) => deps.store.backfill(c.id)?.done !== true);
    const lastSyncAt = deps.store.status(id).lastSyncAt;
    const due = replays.length > 0 || lastSyncAt === null || deps.clock() >= lastSyncAt + settings.periodMs;
    if (!due && fresh.length === 0) return false;
    for (const c of due ? connections : fresh) {
      await syncConnection(d, settings, c, engine, lanes());
      await persist({ backfills: [[c.id, { fromSeq: 0, after: null, done: true }]] });
    }
    await persist({ synced: due });
    return true;
  });

  async function syncConnection(d: DestinationRecord, settings: ListSettings, c: ConnectionRecord, engine: CheckpointStore, lanes: LaneDeps): Promise<void> {
    const computation = computationOf(deps, c);
    if (computation === undefined || computation.kind !== 'audience') return;
    const current = new Set<string>();
    for (const { profileId } of engine.allOutputs(d.space, c.definitionId)) {
      for (const user of computation.target === 'ACCOUNTS' ? accountUserIds(engine, d.space, profileId) : [profileId]) {
        for (const ident of profileIdentifiers(engine, d.space, user)) if (ident.type === settings.identifier) current.add(listValue(ident.value, settings.hashed));
      }
    }
    const previous = new Set(deps.store.listed(c.id));
    const { added, removed } = listDifference(previous, current);
    const post = httpPoster({ url: settings.url, signingSecret: d.secret });
    const per = Math.max(1, settings.valuesPerRequest);
    for (let i = 0; i < Math.max(added.length, removed.length); i += per) {
      const a = added.slice(i, i + per);
      const r = removed.slice(i, i + per);
      const body = JSON.stringify({
        audience: computation.key,
        audience_id: computation.id,
        destination_id: d.id,
        identifier: settings.identifier,
        hashed: settings.hashed,
        full: previous.size === 0,
        added: a,
        removed: r,
      });
      // (a dead-lettered request leaves the stored list as it was: the next sync sends its values again)
      if (await sendBatch(d, [{ messageId: `${c.id}.${i}`, json: body }], lanes, () => post(body), a.length + r.length)) await deps.store.applyListed(c.id, a, r);
    }
  }
}
