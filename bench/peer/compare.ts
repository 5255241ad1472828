/**
 * Flock beside its batch peer on the same events: the engine replays them (incrementally, one batch
 * at a time) while DuckDB loads them; then DuckDB recomputes every translated audience in one go, and
 * both answers are compared as sets at the same instant.
 */
import type { FlockEvent } from '../../engine/event/model.ts';
import { IdentityGraph } from '../../engine/identity/identity-graph.ts';
import { referencedKeys } from '../../engine/lang/index.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { Runtime, type RuntimeInput } from '../../engine/runtime/runtime.ts';
import { DuckDbPeer, type Recomputation } from './duckdb-peer.ts';
import { audienceSql, Untranslatable, type TranslatableDefinition } from './sql-translate.ts';

export interface PeerComparison {
  /** audience keys computed by both. */
  readonly translated: readonly string[];
  readonly untranslated: ReadonlyArray<{ readonly key: string; readonly reason: string }>;
  /** definitions in Flock's plan: the translated audiences and what they reference. */
  readonly flockDefinitions: number;
  readonly events: number;
  readonly peer: Recomputation;
  /** seconds the engine spent replaying the events (runtime only, like the peer's recomputation). */
  readonly flockSeconds: number;
  /** seconds to load the events into DuckDB (not part of the recomputation). */
  readonly loadSeconds: number;
  /** members compared (summed over the translated audiences). */
  readonly members: number;
  readonly mismatches: ReadonlyArray<{ readonly key: string; readonly onlyFlock: readonly string[]; readonly onlyPeer: readonly string[] }>;
}

export interface PeerOptions {
  readonly definitions: readonly DefinitionInput[];
  readonly events: Iterable<FlockEvent>;
  /** the instant both answer for (after the last event). */
  readonly now: number;
}

/** Which audiences translate to SQL, and their SQL at `now`. */
export function translateAudiences(definitions: readonly DefinitionInput[], now: number): { sql: Map<string, string>; untranslated: Array<{ key: string; reason: string }> } {
  const catalog = new Map<string, TranslatableDefinition>(definitions.map((d) => [d.key, d]));
  const sql = new Map<string, string>();
  const untranslated: Array<{ key: string; reason: string }> = [];
  for (const d of definitions) {
    if (d.kind !== 'audience') continue;
    try {
      sql.set(d.key, audienceSql(d.key, catalog, now));
    } catch (error) {
      if (!(error instanceof Untranslatable)) throw error;
      untranslated.push({ key: d.key, reason: error.message });
    }
  }
  return { sql, untranslated };
}

export async function compareWithPeer(o: PeerOptions): Promise<PeerComparison> {
  const { sql, untranslated } = translateAudiences(o.definitions, o.now);
  // Flock computes the translated audiences and everything they reference, nothing else.
  const byKey = new Map(o.definitions.map((d) => [d.key, d]));
  const wanted = new Set<string>();
  const visit = (key: string) => {
    const d = byKey.get(key);
    if (d === undefined || wanted.has(key)) return;
    wanted.add(key);
    for (const k of referencedKeys(d.definition)) visit(k);
  };
  for (const key of sql.keys()) visit(key);
  const subset = o.definitions.filter((d) => wanted.has(d.key));
  const { plan, failures } = compilePlan(subset);
  if (failures.size > 0) throw new Error(`peer definitions failed: ${[...failures.values()].map((f) => f.message).join('; ')}`);

  const flockMembers = new Map<string, Set<string>>([...sql.keys()].map((k) => [k, new Set<string>()]));
  const spaces = new Set<string>();
  let runtime: Runtime | undefined;
  const onChange = (c: { audienceKey?: string; kind: string; profileId: string }) => {
    const set = c.audienceKey === undefined ? undefined : flockMembers.get(c.audienceKey);
    if (set === undefined) return;
    if (c.kind === 'enter') set.add(c.profileId);
    else if (c.kind === 'exit') set.delete(c.profileId);
  };
  const resolver = new IdentityGraph();
  const peer = await DuckDbPeer.open();
  try {
    let flockSeconds = 0;
    let loadSeconds = 0;
    let events = 0;
    let batch: RuntimeInput[] = [];
    const flush = () => {
      const t = performance.now();
      runtime!.replay(batch, o.now);
      flockSeconds += (performance.now() - t) / 1000;
      batch = [];
    };
    for (const event of o.events) {
      if (!spaces.has(event.space)) {
        spaces.add(event.space);
        if (spaces.size > 1) throw new Error('the peer comparison takes one space');
        runtime = new Runtime({ plans: new Map([[event.space, plan]]), onChange });
      }
      const r = resolver.resolve(event);
      if (r.profileId === null) continue;
      events++;
      const t = performance.now();
      for (const m of r.merges) peer.merge(m.from, m.into);
      await peer.append(event, r.profileId);
      loadSeconds += (performance.now() - t) / 1000;
      batch.push(r.merges.length === 0 ? { event, profileId: r.profileId } : { event, profileId: r.profileId, merges: r.merges });
      if (batch.length === 1000) flush();
    }
    if (runtime === undefined) throw new Error('no events');
    flush();
    let t = performance.now();
    runtime.advanceTo(o.now);
    runtime.close();
    flockSeconds += (performance.now() - t) / 1000;
    t = performance.now();
    await peer.seal();
    loadSeconds += (performance.now() - t) / 1000;
    const recomputation = await peer.recompute(sql);

    const mismatches: Array<{ key: string; onlyFlock: string[]; onlyPeer: string[] }> = [];
    let members = 0;
    for (const [key, mine] of flockMembers) {
      const theirs = recomputation.members.get(key)!;
      members += mine.size;
      const onlyFlock = [...mine].filter((id) => !theirs.has(id));
      const onlyPeer = [...theirs].filter((id) => !mine.has(id));
      if (onlyFlock.length > 0 || onlyPeer.length > 0) mismatches.push({ key, onlyFlock, onlyPeer });
    }
    return { translated: [...sql.keys()], untranslated, flockDefinitions: subset.length, events, peer: recomputation, flockSeconds, loadSeconds, members, mismatches };
  } finally {
    peer.close();
  }
}
