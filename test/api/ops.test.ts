/** Operations routes: liveness, readiness, Prometheus metrics (HTTP, engine stats, definitions), the OpenAPI document. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngineStats } from '../../engine/index.ts';
import { LogReadError } from '../../engine/log/log-errors.ts';
import { NOW, serviceApp } from '../support/service-app.ts';

const stats: EngineStats = { eventsIn: 1200, eventsSkipped: 3, merges: 5, changesOut: 40, checkpoints: 7, lastCheckpointMs: 12.5, position: 1100, watermark: NOW - 2_000, droppedValues: 0, overflowedValues: 2, profiles: 900, paused: null, retries: { log_unreachable: 0, disk_full: 0, log_diverged: 0 } };

test('healthz is always 200; readyz follows the readiness function', async () => {
  let ready = false;
  const s = serviceApp({ readiness: () => ({ ready, details: { position: 5, target: 10 } }) });
  try {
    assert.equal(await (await s.app.request('/healthz')).json(), { status: 'ok' });
    const starting = await s.app.request('/readyz');
    assert.is(starting.status, 503);
    assert.equal(await starting.json(), { status: 'starting', details: { position: 5, target: 10 } });
    ready = true;
    const done = await s.app.request('/readyz');
    assert.is(done.status, 200);
    assert.is(((await done.json()) as { status: string }).status, 'ready');
  } finally {
    await s.close();
  }
});

test('metrics: request counts by route pattern, engine stats, lag, definitions by status and backfill progress', async () => {
  const s = serviceApp({ engineStats: () => stats, eventLogLastSeq: async () => 1500 });
  try {
    const a = await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'B', definition: { query: "event('A').count() >= 1", type: 'USERS' } });
    await s.registry.reportStatus(a.id, 1, { status: 'Backfilling', progress: 0.4 });
    await s.profile('/v1/spaces/spa_a/collections/users/profiles/user_id:nobody/traits');
    await s.profile('/v1/spaces/spa_a/collections/users/profiles/user_id:other/traits');
    const res = await s.app.request('/metrics');
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    const line = (prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));
    // one series per route pattern, not per profile
    assert.is(line('flock_http_requests_total{method="GET",route="/v1/spaces/:spaceId/collections/:collection/profiles/:identifier/traits",status="503"}'), 'flock_http_requests_total{method="GET",route="/v1/spaces/:spaceId/collections/:collection/profiles/:identifier/traits",status="503"} 2');
    assert.ok(line('flock_http_request_duration_seconds_bucket'));
    assert.is(line('flock_engine_events_in_total '), 'flock_engine_events_in_total 1200');
    assert.is(line('flock_engine_changes_out_total '), 'flock_engine_changes_out_total 40');
    assert.is(line('flock_engine_lag_events '), 'flock_engine_lag_events 400');
    assert.is(line('flock_engine_checkpoint_duration_seconds '), 'flock_engine_checkpoint_duration_seconds 0.0125');
    assert.is(line('flock_engine_watermark_lag_seconds '), 'flock_engine_watermark_lag_seconds 2');
    assert.is(line('flock_engine_up '), 'flock_engine_up 1');
    assert.is(line('flock_engine_merges_total '), 'flock_engine_merges_total 5');
    assert.is(line('flock_engine_profiles '), 'flock_engine_profiles 900');
    assert.is(line('flock_engine_overflowed_values_total '), 'flock_engine_overflowed_values_total 2');
    assert.is(line('flock_definitions{space="spa_a",kind="audience",status="Backfilling"}'), 'flock_definitions{space="spa_a",kind="audience",status="Backfilling"} 1');
    assert.is(line(`flock_definition_backfill_progress{space="spa_a",id="${a.id}",key="buyers",version="1"}`), `flock_definition_backfill_progress{space="spa_a",id="${a.id}",key="buyers",version="1"} 0.4`);
    assert.ok(line('flock_process_cpu_user_seconds_total'), 'process defaults');
    // a second scrape does not double the engine counters
    const again = await (await s.app.request('/metrics')).text();
    assert.ok(again.includes('flock_engine_events_in_total 1200\n'));
  } finally {
    await s.close();
  }
});

test('metrics while the engine waits for an unreachable log: reachable 0, paused by reason, retries; the lag unknown, the scrape still answers', async () => {
  const paused: EngineStats = { ...stats, paused: 'log_unreachable', retries: { log_unreachable: 7, disk_full: 0, log_diverged: 0 } };
  const s = serviceApp({
    engineStats: () => paused,
    eventLogLastSeq: async () => {
      throw new LogReadError('reading the state of stream FLOCK_EVENTS failed', { cause: new Error('timeout') });
    },
  });
  try {
    const res = await s.app.request('/metrics');
    assert.is(res.status, 200);
    const text = await res.text();
    assert.ok(text.includes('\nflock_log_reachable 0\n'));
    assert.ok(text.includes('\nflock_engine_paused{reason="log_unreachable"} 1\n'));
    assert.ok(text.includes('\nflock_engine_paused{reason="disk_full"} 0\n'));
    assert.ok(text.includes('\nflock_engine_retries_total{reason="log_unreachable"} 7\n'));
    assert.ok(text.includes('\nflock_engine_lag_events Nan\n'), 'the lag is unknown');
  } finally {
    await s.close();
  }
});

test('metrics without an engine in the process: engine_up 0', async () => {
  const s = serviceApp();
  try {
    const text = await (await s.app.request('/metrics')).text();
    assert.ok(text.includes('flock_engine_up 0'));
  } finally {
    await s.close();
  }
});

test('the OpenAPI document: 3.1, every documented route, named schemas, both security schemes', async () => {
  const s = serviceApp();
  try {
    const doc = (await (await s.app.request('/openapi.json')).json()) as Record<string, any>;
    assert.is(doc['openapi'], '3.1.0');
    assert.ok(doc['paths']['/healthz']);
    assert.ok(doc['paths']['/metrics']);
    assert.ok(doc['paths']['/spaces/{spaceId}/audiences'].post.requestBody);
    assert.equal(Object.keys(doc['components'].securitySchemes).sort(), ['accessToken', 'managementToken']);
    for (const name of ['Audience', 'ComputedTrait', 'CreateDefinitionInput', 'PublicApiErrors', 'ProfileApiError', 'PaginationOutput']) assert.ok(doc['components'].schemas[name], name);
    const create = doc['paths']['/spaces/{spaceId}/audiences'].post;
    assert.equal(Object.keys(create.responses).sort(), ['201', '400', '401', '409', '422']);
  } finally {
    await s.close();
  }
});

test.run();
