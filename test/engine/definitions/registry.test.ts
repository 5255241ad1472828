/** The definition registry: records, versions, reserved keys, validation with the space's catalog, statuses, seeding, change notification. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { DefinitionRegistry, RegistryError, type CreateDefinitionInput } from '../../../engine/definitions/registry.ts';
import { servingVersion } from '../../../engine/definitions/registry-record.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-registry-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const clock = { now: Date.UTC(2025, 0, 1) };
const fresh = () => DefinitionRegistry.open(join(root, `r${++n}`), { clock: () => clock.now });

const audience = (key: string, query = "event('Order Completed').count() >= 1", extra: Partial<CreateDefinitionInput> = {}): CreateDefinitionInput => ({
  space: 'spa_a',
  kind: 'audience',
  key,
  name: key,
  definition: { query, type: 'USERS' },
  ...extra,
});

async function rejects(p: Promise<unknown>, code: string): Promise<RegistryError> {
  try {
    await p;
  } catch (error) {
    assert.instance(error, RegistryError);
    assert.is((error as RegistryError).code, code, (error as Error).message);
    return error as RegistryError;
  }
  throw new Error(`expected ${code}`);
}

test('create: an aud_ id, version 1 Preparing, defaults; get, byKey; other spaces see nothing', async () => {
  const r = fresh();
  const a = await r.create(audience('buyers'));
  assert.match(a.id, /^aud_[0-9A-Za-z]{22}$/);
  assert.equal(a.versions.map((v) => [v.version, v.status]), [[1, 'Preparing']]);
  assert.is(a.status, 'Preparing');
  assert.is(a.liveVersion, null);
  assert.equal(a.options, { includeHistoricalData: false, includeAnonymousUsers: false });
  assert.equal(a.computeCadence, { type: 'REALTIME' });
  assert.equal(r.get('spa_a', a.id), a);
  assert.equal(r.byKey('spa_a', 'buyers')?.id, a.id);
  assert.is(r.get('spa_b', a.id), undefined);
  assert.is(r.byKey('spa_b', 'buyers'), undefined);
  const t = await r.create({ ...audience('spend', "event('Order Completed').sum(property('total'))"), kind: 'trait', computeCadence: { type: 'BATCH' } });
  assert.match(t.id, /^tra_/);
  assert.equal(t.computeCadence, { type: 'BATCH', interval: '8h' });
  await r.close();
});

test('keys: taken in the space (across kinds), free in another space, reserved forever after deletion', async () => {
  const r = fresh();
  const a = await r.create(audience('vip'));
  await rejects(r.create(audience('vip')), 'key_taken');
  await rejects(r.create({ ...audience('vip', "event('A').count()"), kind: 'trait' }), 'key_taken');
  await r.create({ ...audience('vip'), space: 'spa_b' });
  await r.remove('spa_a', a.id);
  assert.is(r.get('spa_a', a.id), undefined);
  assert.ok(r.get('spa_a', a.id, { includeDeleted: true })?.deletedAt);
  const e = await rejects(r.create(audience('vip')), 'key_reserved');
  assert.is(e.details.field, 'key');
  await rejects(r.remove('spa_a', a.id), 'not_found');
  await rejects(r.update('spa_a', a.id, { name: 'x' }), 'not_found');
  await r.close();
});

test('validation: diagnostics with line and column; custom traits in the membership form; reference cycles through the catalog', async () => {
  const r = fresh();
  const syntax = await rejects(r.create(audience('bad', "event('A').count( >= 1")), 'invalid_definition');
  assert.is(syntax.details.diagnostics?.[0]?.code, 'syntax_error');
  assert.is(syntax.details.diagnostics?.[0]?.line, 1);
  assert.is(syntax.details.field, 'definition.query');
  // a trait() naming no definition is a custom trait, also compared with a boolean
  const custom = await r.create(audience('x', "event('A').count() >= 1 AND\n  trait('ghost') = true"));
  assert.equal(custom.versions[0]!.references, ['ghost']);
  const base = await r.create(audience('base'));
  const mid = await r.create(audience('mid', "trait('base') = true"));
  assert.equal(mid.versions[0]!.references, ['base']);
  const cycle = await rejects(r.update('spa_a', base.id, { query: "trait('mid') = true" }), 'invalid_definition');
  assert.is(cycle.details.diagnostics?.[0]?.code, 'reference_cycle');
  assert.match(cycle.message, /base → mid → base/);
  // a trait's kind rule: an audience query is not a scalar
  await rejects(r.create({ ...audience('t1'), kind: 'trait' }), 'invalid_definition');
  assert.equal(r.validate('spa_a', { kind: 'audience', type: 'USERS', query: "trait('mid') = true" }).diagnostics, []);
  await r.close();
});

test('edits: a new query is a new version beside the live one; cadence, type and includeAnonymousUsers are fixed', async () => {
  const r = fresh();
  const a = await r.create(audience('buyers', "event('Order Completed').count() >= 1", { computeCadence: { type: 'REALTIME' } }));
  await r.reportStatus(a.id, 1, { status: 'Live' });
  const renamed = await r.update('spa_a', a.id, { name: 'Buyers', description: 'people who bought', query: "event('Order Completed').count() >= 1" });
  assert.is(renamed.versions.length, 1, 'the same query is no new version');
  assert.is(renamed.name, 'Buyers');
  const v2 = await r.update('spa_a', a.id, { query: "event('Order Completed').count() >= 2" });
  assert.equal(v2.versions.map((v) => [v.version, v.status]), [[1, 'Live'], [2, 'Preparing']]);
  assert.is(v2.definition.query, "event('Order Completed').count() >= 2");
  assert.is(v2.liveVersion, 1);
  assert.is(v2.status, 'Preparing');
  assert.is(servingVersion(v2), 1);
  // an edit before v2 went Live supersedes it
  const v3 = await r.update('spa_a', a.id, { query: "event('Order Completed').count() >= 3" });
  assert.equal(v3.versions.map((v) => [v.version, v.status, v.supersededAt !== undefined]), [[1, 'Live', false], [2, 'Not Computing', true], [3, 'Preparing', false]]);
  const cadence = await rejects(r.update('spa_a', a.id, { computeCadence: { type: 'BATCH' } }), 'cadence_change');
  assert.is(cadence.details.field, 'computeCadence.type');
  await rejects(r.update('spa_a', a.id, { type: 'ACCOUNTS' }), 'immutable_field');
  await rejects(r.update('spa_a', a.id, { options: { includeAnonymousUsers: true } }), 'immutable_field');
  await rejects(r.update('spa_a', a.id, { query: "event('A').count( >= 1" }), 'invalid_definition');
  const same = await r.update('spa_a', a.id, { computeCadence: { type: 'REALTIME' }, options: { includeHistoricalData: true, backfillEventDataDays: 30 } });
  assert.equal(same.options, { includeHistoricalData: true, includeAnonymousUsers: false, backfillEventDataDays: 30 });
  const disabled = await r.update('spa_a', a.id, { enabled: false });
  assert.is(disabled.status, 'Disabled');
  assert.is((await r.update('spa_a', a.id, { enabled: true })).status, 'Preparing');
  await r.close();
});

test('statuses: progress while backfilling, Live switches versions, Failed keeps the reason; unknown versions are refused', async () => {
  const r = fresh();
  const a = await r.create(audience('buyers', "event('A').count() >= 1", { options: { includeHistoricalData: true } }));
  let rec = await r.reportStatus(a.id, 1, { status: 'Backfilling', progress: 0.25, eta: Date.UTC(2025, 0, 1, 1) });
  assert.is(rec.status, 'Backfilling');
  assert.is(rec.versions[0]!.progress, 0.25);
  assert.is(rec.versions[0]!.eta, '2025-01-01T01:00:00.000Z');
  assert.is(servingVersion(rec), undefined, 'a first version is not served while it backfills');
  rec = await r.reportStatus(a.id, 1, { status: 'Live' });
  assert.is(rec.liveVersion, 1);
  assert.is(rec.versions[0]!.progress, undefined);
  await r.update('spa_a', a.id, { query: "event('A').count() >= 2" });
  rec = await r.reportStatus(a.id, 2, { status: 'Failed', failureReason: 'unsupported: account-level' });
  assert.is(rec.status, 'Failed');
  assert.is(rec.liveVersion, 1);
  assert.is(servingVersion(rec), 1);
  await r.update('spa_a', a.id, { query: "event('A').count() >= 3" });
  rec = await r.reportStatus(a.id, 3, { status: 'Live' });
  assert.equal(rec.versions.map((v) => [v.version, v.status]), [[1, 'Not Computing'], [2, 'Failed'], [3, 'Live']]);
  assert.is(rec.liveVersion, 3);
  assert.is(rec.status, 'Live');
  await rejects(r.reportStatus(a.id, 9, { status: 'Live' }), 'not_found');
  await rejects(r.reportStatus('aud_nope', 1, { status: 'Live' }), 'not_found');
  await r.close();
});

test('the engine side: computeSet has the live and pending versions with fingerprints; planInputs one version each', async () => {
  const r = fresh();
  const a = await r.create(audience('buyers'));
  const off = await r.create(audience('off', "event('B').count() >= 1", { enabled: false }));
  await r.create({ ...audience('spend', "event('A').sum(property('total'))"), kind: 'trait' });
  await r.reportStatus(a.id, 1, { status: 'Live' });
  await r.update('spa_a', a.id, { query: "event('Order Completed').count() >= 2" });
  const set = r.computeSet().get('spa_a')!;
  assert.equal(set.map((d) => d.key).sort(), ['buyers', 'spend']);
  const buyers = set.find((d) => d.key === 'buyers')!;
  assert.equal(buyers.versions.map((v) => v.version), [1, 2]);
  assert.match(buyers.versions[0]!.fingerprint, /^[0-9a-z]+$/i);
  assert.is.not(buyers.versions[0]!.fingerprint, buyers.versions[1]!.fingerprint);
  assert.is(buyers.versions[0]!.fingerprint, r.compiled(r.get('spa_a', a.id)!, 1)!.fingerprint);
  const inputs = r.planInputs().get('spa_a')!;
  assert.equal(inputs.map((d) => [d.key, d.version, d.kind]).sort(), [['buyers', 2, 'audience'], ['spend', 1, 'trait']]);
  assert.ok(r.computeSet().get('spa_a')!.every((d) => d.id !== off.id));
  await r.close();
});

test('list: creation order, keyset pages forwards and back, per kind, deleted ones left out', async () => {
  const r = fresh();
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) ids.push((await r.create(audience(`a${i}`))).id);
  await r.create({ ...audience('t0', "event('A').count()"), kind: 'trait' });
  await r.remove('spa_a', ids[3]!);
  const live = ids.filter((_, i) => i !== 3);
  const first = r.list('spa_a', 'audience', { limit: 4 });
  assert.equal(first.records.map((x) => x.id), live.slice(0, 4));
  assert.equal([first.totalEntries, first.hasPrevious, first.hasNext], [6, false, true]);
  const second = r.list('spa_a', 'audience', { after: first.records.at(-1)!.seq, limit: 4 });
  assert.equal(second.records.map((x) => x.id), live.slice(4));
  assert.equal([second.hasPrevious, second.hasNext], [true, false]);
  const back = r.list('spa_a', 'audience', { before: second.records[0]!.seq, limit: 4 });
  assert.equal(back.records.map((x) => x.id), live.slice(0, 4));
  assert.equal([back.hasPrevious, back.hasNext], [false, true]);
  const back2 = r.list('spa_a', 'audience', { before: second.records[0]!.seq, limit: 2 });
  assert.equal(back2.records.map((x) => x.id), live.slice(2, 4));
  assert.equal([back2.hasPrevious, back2.hasNext], [true, true]);
  assert.equal(r.list('spa_a', 'trait', { limit: 10 }).records.map((x) => x.key), ['t0']);
  assert.equal(r.list('spa_b', 'audience', { limit: 10 }).records, []);
  await r.close();
});

test('delete: refused while another definition uses the key; consumers name them', async () => {
  const r = fresh();
  const base = await r.create(audience('base'));
  const user = await r.create(audience('user', "trait('base') = true AND event('A').count() >= 1"));
  await r.create({ ...audience('other', "trait('base').exists()"), space: 'spa_b' });
  assert.equal(r.consumers('spa_a', 'base').map((x) => x.id), [user.id]);
  const e = await rejects(r.remove('spa_a', base.id), 'referenced');
  assert.equal(e.details.referencedBy, [user.id]);
  await r.remove('spa_a', user.id);
  await r.remove('spa_a', base.id);
  assert.equal(r.all('spa_a'), []);
  await r.close();
});

test('seed: idempotent; a raised version is a new version; changed queries without a raised version and reserved keys are problems', async () => {
  const r = fresh();
  const entries = [
    { space: 'spa_a', key: 'uses_base', kind: 'audience' as const, query: "trait('base') = true", target: 'USERS' as const, version: 1 },
    { space: 'spa_a', key: 'base', kind: 'audience' as const, query: "event('A').count() >= 1", target: 'USERS' as const, version: 1 },
  ];
  const first = await r.seed(entries);
  assert.equal(first, { created: ['spa_a/base', 'spa_a/uses_base'], versioned: [], unchanged: [], problems: [] });
  assert.is(r.byKey('spa_a', 'base')?.id, 'aud_base');
  assert.is(r.byKey('spa_a', 'base')?.options.includeHistoricalData, true);
  const revision = r.revision();
  assert.equal(await r.seed(entries), { created: [], versioned: [], unchanged: ['spa_a/base', 'spa_a/uses_base'], problems: [] });
  assert.is(r.revision(), revision, 'an unchanged seed changes nothing');
  const changed = await r.seed([{ ...entries[1]!, query: "event('A').count() >= 2", version: 3 }]);
  assert.equal(changed.versioned, ['spa_a/base']);
  assert.equal(r.byKey('spa_a', 'base')?.versions.map((v) => v.version), [1, 3]);
  const notRaised = await r.seed([{ ...entries[1]!, query: "event('A').count() >= 5", version: 3 }]);
  assert.match(notRaised.problems[0]!, /spa_a\/base: the query differs from version 3/);
  const gone = await r.create(audience('gone'));
  await r.remove('spa_a', gone.id);
  const reserved = await r.seed([{ space: 'spa_a', key: 'gone', kind: 'audience', query: "event('A').count() >= 1", target: 'USERS', version: 1 }]);
  assert.match(reserved.problems[0]!, /spa_a\/gone: the key was deleted/);
  const wrongKind = await r.seed([{ ...entries[1]!, kind: 'trait', query: "event('A').count()" }]);
  assert.match(wrongKind.problems[0]!, /is an audience already/);
  const bad = await r.seed([{ space: 'spa_a', key: 'bad', kind: 'audience', query: "event('A').count()", target: 'USERS', version: 1 }]);
  assert.match(bad.problems[0]!, /spa_a\/bad: not_boolean at 1:1/);
  await r.close();
});

test('previews: validated, RUNNING until the engine reports; pending for the engine; other spaces see nothing', async () => {
  const r = fresh();
  await rejects(r.createPreview({ space: 'spa_a', kind: 'audience', definition: { query: 'nope(', type: 'USERS' } }), 'invalid_definition');
  const p = await r.createPreview({ space: 'spa_a', kind: 'audience', definition: { query: "event('A').count() >= 1", type: 'USERS' } });
  assert.match(p.id, /^prv_/);
  assert.is(p.status, 'RUNNING');
  assert.equal(r.pendingPreviews().map((x) => x.id), [p.id]);
  assert.is(r.getPreview('spa_b', p.id), undefined);
  const done = await r.reportPreview(p.id, { status: 'COMPLETED', size: 2, results: [{ profileId: 'user_id:a' }, { profileId: 'user_id:b' }] });
  assert.is(done.size, 2);
  assert.equal(r.getPreview('spa_a', p.id)?.status, 'COMPLETED');
  assert.equal(r.pendingPreviews(), []);
  await rejects(r.reportPreview('prv_nope', { status: 'FAILED' }), 'not_found');
  await r.close();
});

test('watch: another handle on the same path hears of a change at once; status reports are not changes', async () => {
  const path = join(root, 'watched');
  const writer = DefinitionRegistry.open(path);
  const reader = DefinitionRegistry.open(path);
  const heard: number[] = [];
  const stop = reader.watch((revision) => heard.push(revision), { pollMs: 60_000 });
  const started = Date.now();
  const a = await writer.create(audience('buyers'));
  while (heard.length === 0 && Date.now() - started < 2000) await new Promise((r) => setTimeout(r, 2));
  assert.equal(heard, [1]);
  assert.ok(Date.now() - started < 500, `heard after ${Date.now() - started} ms`);
  assert.is(reader.get('spa_a', a.id)?.key, 'buyers');
  await writer.reportStatus(a.id, 1, { status: 'Live' });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(heard, [1]);
  stop();
  await writer.close();
  await reader.close();
});

test('watch: a write from a worker thread is seen by the polling and the channel', async () => {
  const path = join(root, 'threads');
  const reader = DefinitionRegistry.open(path);
  const heard: number[] = [];
  const stop = reader.watch((revision) => heard.push(revision), { pollMs: 60_000 });
  const worker = new Worker(fileURLToPath(new URL('../../support/ts-worker.mjs', import.meta.url)), {
    workerData: { entry: new URL('../../support/registry-worker.ts', import.meta.url).href, path },
  });
  const done = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await done;
  const started = Date.now();
  while (heard.length === 0 && Date.now() - started < 2000) await new Promise((r) => setTimeout(r, 2));
  assert.ok(heard.length > 0, 'the reader heard the worker');
  assert.is(reader.byKey('spa_a', 'from_worker')?.kind, 'audience');
  stop();
  await worker.terminate();
  await reader.close();
});

test.run();
