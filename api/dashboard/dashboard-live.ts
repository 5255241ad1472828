/**
 * The dashboard's server-sent events: every half second it reads the space's definitions (and, for
 * one definition, its recent changes) through the same JSON routes the pages use, and sends what
 * changed — status, progress, ETA, size; new enters and exits.
 */
import type { SSEStreamingApi } from 'hono/streaming';

export const LIVE_INTERVAL_MS = 500;

/** Reads one JSON route of the session's space with its credential: undefined once the session ended or moved to another space, `{}` for an answer that is not a success. */
export type ReadJson = (path: string) => Promise<Record<string, any> | undefined>;

/** A route answered with something else than its data (e.g. 503 while the engine's state opens): the tick is skipped. */
class LiveReadError extends Error {}

const KINDS = [
  { path: 'audiences', many: 'audiences' },
  { path: 'computed-traits', many: 'computedTraits' },
] as const;

/** What the overview shows of a definition: sent again whenever one of these changes. */
function summary(d: Record<string, any>, path: string) {
  return {
    id: d['id'],
    kind: path,
    key: d['key'],
    name: d['name'],
    enabled: d['enabled'],
    status: d['status'],
    progress: d['progress'] ?? null,
    eta: d['eta'] ?? null,
    size: d['size']?.count ?? null,
    cadence: d['computeCadence'],
    version: d['version'],
    liveVersion: d['liveVersion'],
    updatedAt: d['updatedAt'],
  };
}

/** Every definition of the space, all pages of both lists. */
async function allDefinitions(read: ReadJson, space: string): Promise<ReturnType<typeof summary>[] | undefined> {
  // (the two lists side by side)
  const lists = await Promise.all(
    KINDS.map(async (kind) => {
      const out: ReturnType<typeof summary>[] = [];
      let cursor: string | null = null;
      do {
        const body: Record<string, any> | undefined = await read(
          `/spaces/${space}/${kind.path}?pagination.count=200${cursor === null ? '' : `&pagination.cursor=${encodeURIComponent(cursor)}`}`,
        );
        if (body === undefined) return undefined;
        const list: unknown = body['data']?.[kind.many];
        if (!Array.isArray(list)) throw new LiveReadError(`no ${kind.many} list`);
        for (const d of list as Record<string, any>[]) out.push(summary(d, kind.path));
        cursor = body['data'].pagination.next ?? null;
      } while (cursor !== null);
      return out;
    }),
  );
  return lists.some((l) => l === undefined) ? undefined : lists.flatMap((l) => l!);
}

/** Streams `definitions` (changed summaries), `removed` (ids) and, with `focus`, `changes` (new recent changes, oldest first) until the browser goes. */
export async function streamLive(stream: SSEStreamingApi, read: ReadJson, space: string, focus: { kind: string; id: string } | undefined): Promise<void> {
  const sent = new Map<string, string>();
  const seenChanges = new Set<string>();
  let first = true;
  while (!stream.aborted) {
    let definitions;
    try {
      definitions = await allDefinitions(read, space);
    } catch (error) {
      if (!(error instanceof LiveReadError)) throw error;
      await stream.sleep(LIVE_INTERVAL_MS);
      continue;
    }
    if (definitions === undefined) {
      await stream.writeSSE({ event: 'signed-out', data: '{}' });
      return;
    }
    const changed = definitions.filter((d) => {
      const text = JSON.stringify(d);
      if (sent.get(d.id) === text) return false;
      sent.set(d.id, text);
      return true;
    });
    const present = new Set(definitions.map((d) => d.id));
    const removed = [...sent.keys()].filter((id) => !present.has(id));
    for (const id of removed) sent.delete(id);
    if (changed.length > 0 || first) await stream.writeSSE({ event: 'definitions', data: JSON.stringify({ definitions: changed, full: first }) });
    if (removed.length > 0) await stream.writeSSE({ event: 'removed', data: JSON.stringify({ ids: removed }) });
    if (focus !== undefined) {
      const body = await read(`/spaces/${space}/${focus.kind}/${encodeURIComponent(focus.id)}/changes?pagination.count=50`);
      const fresh = ((body?.['data']?.changes ?? []) as Record<string, any>[]).filter((ch) => !seenChanges.has(String(ch['id'])));
      for (const ch of fresh) seenChanges.add(String(ch['id']));
      if (fresh.length > 0 || first) await stream.writeSSE({ event: 'changes', data: JSON.stringify({ changes: fresh.reverse(), full: first }) });
    }
    first = false;
    await stream.sleep(LIVE_INTERVAL_MS);
  }
}
