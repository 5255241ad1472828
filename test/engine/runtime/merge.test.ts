/** Profile merges: the survivor ends up exactly where one profile that saw every event would be; the absorbed one leaves everything. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { Runtime } from '../../../engine/runtime/runtime.ts';
import type { Change } from '../../../engine/runtime/change.ts';
import { cellsByFingerprint } from '../../../engine/runtime/profile-state.ts';
import { definitionsArb, stepsArb } from '../../support/arbitraries.ts';

/** The outputs of a profile by definition key. */
function outputs(rt: Runtime, id: string, keys: Map<string, string>): Record<string, unknown> {
  const st = rt.profile('spa_test', id);
  const out: Record<string, unknown> = {};
  if (st === undefined) return out;
  for (const [fp, cell] of cellsByFingerprint(st)) if (cell.v !== undefined) out[keys.get(fp)!] = cell.v;
  return out;
}

test('merge(from, into) = one profile that saw both event streams (random definitions and streams)', () => {
  fc.assert(
    fc.property(definitionsArb, stepsArb, fc.nat(), (defs, steps, cut) => {
      const { plan, failures } = compilePlan(defs, { distinctCap: 10_000, retentionMs: 0 });
      assert.is(failures.size, 0);
      const keys = new Map(plan.definitions.map((d) => [d.fp, d.input.key]));
      const split: Change[] = [];
      const one: Change[] = [];
      const a = new Runtime({ plans: new Map([['spa_test', plan]]), onChange: (c) => split.push(c) });
      const b = new Runtime({ plans: new Map([['spa_test', plan]]), onChange: (c) => one.push(c) });
      // Events of u1 and u2 go to two profiles in `a` until the merge step, to one profile in `b` throughout.
      const events = steps.filter((s) => s.kind === 'event').map((s) => (s.kind === 'event' ? s.event : null)!);
      // Distinct timestamps: ties between two profiles' events have no defined order across a merge.
      const used = new Set<number>();
      const clean = events.filter((e) => (used.has(e.timestamp) ? false : (used.add(e.timestamp), true)));
      const mergeAt = clean.length === 0 ? 0 : cut % (clean.length + 1);
      let merged = false;
      for (let i = 0; i < clean.length; i++) {
        if (i === mergeAt && !merged) {
          a.merge('spa_test', 'p2', 'p1');
          merged = true;
        }
        const e = clean[i]!;
        const toTwo = e.userId === 'u2' && !merged;
        a.replay([{ event: e, profileId: toTwo ? 'p2' : 'p1' }]);
        b.replay([{ event: e, profileId: 'p1' }]);
      }
      if (!merged) a.merge('spa_test', 'p2', 'p1');
      const end = Math.max(a.watermark, b.watermark) + 1_000_000;
      a.advanceTo(end);
      b.advanceTo(end);
      a.close();
      b.close();
      assert.equal(outputs(a, 'p1', keys), outputs(b, 'p1', keys));
      assert.equal(outputs(a, 'p2', keys), {});
      assert.not.ok(a.exists('spa_test', 'p2'));
    }),
    { numRuns: 1500 },
  );
});

test('the absorbed profile exits its audiences and loses its traits at the merge instant', () => {
  const { plan } = compilePlan(
    [
      { id: 'aud_a', key: 'a', kind: 'audience', target: 'USERS', version: 1, definition: { kind: 'audience', target: 'USERS', condition: { kind: 'comparison', subject: { kind: 'trait', path: ['plan'] }, comparator: 'exists', args: [] } } },
    ],
  );
  const changes: Change[] = [];
  const rt = new Runtime({ plans: new Map([['spa_test', plan]]), onChange: (c) => changes.push(c) });
  const identify = (id: string, ts: number, plan: string) =>
    rt.replay([{ event: { space: 'spa_test', type: 'identify', event: null, messageId: `m${ts}`, userId: id, anonymousId: null, groupId: null, previousId: null, traits: { plan }, properties: null, context: null, integrations: null, timestamp: ts, receivedAt: ts, sourceId: null }, profileId: id }]);
  identify('anon', 1000, 'free');
  identify('user', 2000, 'pro');
  rt.advanceTo(3000);
  rt.merge('spa_test', 'anon', 'user');
  rt.advanceTo(4000);
  assert.equal(
    changes.map((c) => `${c.profileId} ${c.kind} @${c.at}`),
    ['anon enter @1000', 'user enter @2000', 'anon exit @3000'],
  );
  assert.is(rt.profile('spa_test', 'user')!.traits['plan'], 'pro', 'the newest write wins');
});

test.run();
