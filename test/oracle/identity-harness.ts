/** Runs identity resolution + runtime over random journeys and checks resolutions and the change stream against the identity oracle at every instant that matters. */
import { of } from 'rxjs';
import { IdentityGraph } from '../../engine/identity/identity-graph.ts';
import { identityRules, type IdentityRulesConfig } from '../../engine/identity/rules.ts';
import type { Resolution } from '../../engine/identity/resolver.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { resolveProfiles, type ResolvedBatch } from '../../engine/pipeline/resolve-profiles.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { DATE_POOL, durationsOf, T0 } from '../support/arbitraries.ts';
import type { IdentityStep } from '../support/identity-arbitraries.ts';
import { identityOracleAt, resolveIdentities, type IdentityHistoryEntry } from './identity-oracle.ts';
import { candidates, checkWellFormed, keyOf, oracleRuntime, same, tick, type Mode } from './harness.ts';


export interface IdentityRun {
  readonly changes: Change[];
  readonly history: IdentityHistoryEntry[];
  /** the resolver's answer for each event, in order. */
  readonly resolutions: Resolution[];
  /** identifiers the rules demoted, by reason. */
  readonly demotions: Readonly<Record<string, number>>;
  readonly end: number;
}

/** One event through the pipeline's identity stage (the operator the engine runs), synchronously. */
function resolveOne(resolver: IdentityGraph, seq: number, event: IdentityHistoryEntry['event']): ResolvedBatch {
  let out: ResolvedBatch | undefined;
  of([{ seq, event }])
    .pipe(resolveProfiles(resolver))
    .subscribe((b) => (out = b));
  return out!;
}

/** Drives a fresh resolver and runtime: replay = watermark follows event time; live = one batch per step at a wall clock. */
export function runIdentityEngine(defs: readonly DefinitionInput[], steps: readonly IdentityStep[], config: IdentityRulesConfig, mode: Mode): IdentityRun {
  const rules = identityRules(config);
  if (!rules.ok) throw new Error(`rules: ${JSON.stringify(rules.issues)}`);
  const resolver = new IdentityGraph({ rules: new Map([['spa_test', rules.rules]]) });
  const { rt, changes } = oracleRuntime(defs);
  const history: IdentityHistoryEntry[] = [];
  const resolutions: Resolution[] = [];
  let wall = T0;
  let seq = 0;
  for (const step of steps) {
    if (step.kind === 'tick') {
      wall = tick(rt, mode, wall, step.dt);
      continue;
    }
    const { event } = step;
    const batch = resolveOne(resolver, seq + 1, event);
    const input = batch.events[0];
    resolutions.push(input === undefined ? { profileId: null, merges: [] } : { profileId: input.profileId, merges: input.merges ?? [] });
    if (input !== undefined) {
      if (mode === 'replay') rt.replay([input]);
      else {
        if (event.timestamp > wall && event.timestamp <= wall + 20_000) wall = event.timestamp;
        rt.live([input], wall);
      }
    }
    history.push({ event, arrival: rt.watermark, seq: seq++ });
  }
  const durations = durationsOf(defs);
  const maxTs = Math.max(rt.watermark, ...history.map((h) => h.event.timestamp), ...DATE_POOL.map(Date.parse));
  const end = maxTs + 2 * Math.max(1000, ...durations) + 1000;
  rt.advanceTo(end);
  rt.close();
  return { changes, history, resolutions, demotions: resolver.stats.demotions, end };
}

/**
 * Throws with a readable report when the engine disagrees with the oracle: first each event's
 * resolution (profile and merges), then every profile's outputs at every candidate instant.
 */
export function checkIdentityAgainstOracle(defs: readonly DefinitionInput[], run: IdentityRun, config: IdentityRulesConfig): void {
  const oracle = resolveIdentities(
    run.history.map((h) => h.event),
    config,
  ).perEvent;
  run.resolutions.forEach((r, i) => {
    const want = oracle[i]!;
    const got = { profileId: r.profileId, merges: r.merges.map((m) => ({ from: m.from, into: m.into })) };
    if (!same(want, got)) throw new Error(`event ${i} (${run.history[i]!.event.messageId}): oracle ${JSON.stringify(want)}, engine ${JSON.stringify(got)}`);
  });

  checkWellFormed(run.changes);

  // Every profile that ever existed: absorbed ones must have left everything.
  const profiles = [...new Set(run.resolutions.flatMap((r) => (r.profileId === null ? [] : [r.profileId, ...r.merges.map((m) => m.from)])))];
  // …and every account the engine has spoken of.
  const accounts = new Set(run.changes.filter((c) => c.collection === 'accounts').map((c) => c.profileId));
  const cursor = new Map<string, unknown>();
  let next = 0;
  for (const t of candidates(defs, run)) {
    while (next < run.changes.length && run.changes[next]!.at <= t) {
      const c = run.changes[next++]!;
      cursor.set(keyOf(c), c.kind === 'trait' ? c.value : c.kind === 'enter');
    }
    const expected = identityOracleAt(defs, run.history, config, t);
    for (const p of new Set([...profiles, ...expected.keys(), ...accounts])) {
      const exp = expected.get(p);
      for (const d of defs) {
        const none = d.kind === 'audience' ? false : undefined;
        const want = exp === undefined ? none : d.kind === 'audience' ? exp.get(d.key) === true : exp.get(d.key);
        const got = cursor.has(`${p}|${d.key}`) ? cursor.get(`${p}|${d.key}`) : none;
        if (!same(want, got)) {
          throw new Error(
            `at T0+${(t - T0) / 1000}s profile ${p} definition ${d.key}: oracle ${JSON.stringify(want)}, engine ${JSON.stringify(got)}\n` +
              `resolutions: ${run.resolutions.map((r, i) => `${i}:${r.profileId?.slice(0, 9) ?? '-'}${r.merges.map((m) => `<${m.from.slice(0, 9)}`).join('')}`).join(' ')}\n` +
              `changes: ${run.changes.map((c) => `${c.profileId.slice(0, 9)}.${c.at - T0}.${c.kind}${c.kind === 'trait' ? `=${JSON.stringify(c.value)}` : ''}`).join(', ')}`,
          );
        }
      }
    }
  }
}
