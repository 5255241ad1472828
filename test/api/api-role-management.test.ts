/**
 * The API role's management API (`--role api`, api/api-role/cluster-management.ts) over the shared
 * definitions home (engine/cluster/definitions-home.ts, a KV bucket on a private nats-server): the
 * same sequence of definition calls — creates, a taken and a reserved key, diagnostics, malformed
 * bodies, lists with cursors, gets, edits (a new version, a refused type change), references, a
 * refused and a done delete, validations, a file seed — answers with the same status and body as one
 * process (`--role all`), ids aside (each side makes its own: the bodies are compared with each id
 * replaced by its order of appearance). A second API process sees the first one's writes; two racing
 * creates of one key give one 201 and one 409 (the key is taken), as in one process. What the API role does
 * not serve (previews, members, exports, destinations) is 501 `not-in-api-role`, after auth.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { createApp } from '../../api/app.ts';
import { DefinitionRegistry } from '../../engine/definitions/registry.ts';
import { DefinitionsReplica, openDefinitionsBucket, openEventLog, remoteProfiles, staticSpaceDirectory } from '../../engine/index.ts';
import { natsServerAvailable, startNatsServer } from '../support/nats-server.ts';

const SPACE = 'spa_m';
const MANAGEMENT = 'mgt_m_token';
const SPACES = staticSpaceDirectory([{ id: SPACE, name: 'M', writeKeys: [{ key: 'wk_m_token', sourceId: 'src_m' }], accessTokens: ['acc_m_token'], managementTokens: [MANAGEMENT] }]);
const NO_STORE = { get: () => undefined, close: async () => {} };

type App = ReturnType<typeof createApp>;
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** One side's calls: `{0}`, `{1}` … in a path are the ids of the definitions it created, in order. */
function side(app: App) {
  const ids: string[] = [];
  const call = async (method: string, path: string, body?: unknown, token = MANAGEMENT): Promise<Answer> => {
    const res = await app.request(
      path.replace(/\{(\d+)\}/g, (_, k: string) => ids[Number(k)] ?? 'none'),
      { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) },
    );
    const text = await res.text();
    const parsed: unknown = text === '' ? null : JSON.parse(text);
    const created = (parsed as { data?: Record<string, { id?: unknown }> } | null)?.data;
    for (const one of Object.values(created ?? {})) if (method === 'POST' && res.status === 201 && typeof one?.id === 'string' && !ids.includes(one.id)) ids.push(one.id);
    return { status: res.status, body: parsed };
  };
  /** the answer with every id this side made replaced by `#k`. */
  const normal = (a: Answer): Answer => {
    let text = JSON.stringify(a.body);
    ids.forEach((id, k) => (text = text.replaceAll(id, `#${k}`)));
    return { status: a.status, body: JSON.parse(text) };
  };
  return { call, normal, ids };
}

if (natsServerAvailable('the API role management test')) {
  test('the API role answers the definition routes of the management API as one process, over the shared definitions home', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-api-mgmt-'));
    const nats = await startNatsServer();
    const events = await openEventLog({ dataDir: root, natsUrl: nats.url });
    let now = Date.parse('2026-03-01T10:00:00Z');
    const clock = () => (now += 1000);
    // (both sides read one clock in the same order: the one process first, then the API role, per call)
    let oneNow = 0;
    let apiNow = 0;
    const registry = DefinitionRegistry.open(join(root, 'registry'), { clock: () => oneNow });
    const nc = await connect({ servers: nats.url });
    const kv = await openDefinitionsBucket(nc);
    const replicas = [
      await DefinitionsReplica.open({ kv, path: join(root, 'api-a'), clock: () => apiNow }),
      await DefinitionsReplica.open({ kv, path: join(root, 'api-b'), clock: () => apiNow }),
    ];
    try {
      const one = side(createApp({ eventLog: events, spaces: SPACES, registry, store: NO_STORE }));
      const cluster = remoteProfiles(nc, { partitions: 4, timeoutMs: 2000 });
      const apiApps = replicas.map((definitions) => createApp({ eventLog: events, spaces: SPACES, cluster, clusterDefinitions: definitions }));
      const api = side(apiApps[0]!);
      const same = async (method: string, path: string, body?: unknown): Promise<Answer> => {
        oneNow = apiNow = clock();
        const a = await one.call(method, path, body);
        const b = await api.call(method, path, body);
        assert.equal(api.normal(b), one.normal(a), `${method} ${path}`);
        return a;
      };

      const spend = { name: 'Spend 30d', key: 'spend_30d', definition: { query: "event('Order Completed').within(30 days).sum(property('total'))" } };
      assert.is((await same('POST', `/spaces/${SPACE}/computed-traits`, spend)).status, 201);
      assert.is((await same('POST', `/spaces/${SPACE}/audiences`, { name: 'Big spenders', definition: { query: "trait('spend_30d') > 100", type: 'USERS' }, options: { includeHistoricalData: true } })).status, 201);
      assert.is((await same('POST', `/spaces/${SPACE}/audiences`, { name: 'Viewers', description: 'saw a page', definition: { query: "event('Page Viewed').within(7 days).count() >= 1", type: 'USERS' } })).status, 201);
      assert.is((await same('POST', `/spaces/${SPACE}/audiences`, { name: 'Busy accounts', definition: { query: "ANY event('Page Viewed').count() >= 3", type: 'ACCOUNTS' }, computeCadence: { type: 'BATCH', interval: '1h' } })).status, 201);
      // refusals: a taken key, diagnostics, a malformed body, a key no name makes, a reserved word
      const taken = await same('POST', `/spaces/${SPACE}/audiences`, { name: 'Viewers', definition: { query: "event('X').count() >= 1", type: 'USERS' } });
      assert.is(taken.status, 409);
      assert.is((await same('POST', `/spaces/${SPACE}/audiences`, { name: 'Broken', definition: { query: "event('A').count( >= 1", type: 'USERS' } })).status, 422);
      assert.is((await same('POST', `/spaces/${SPACE}/audiences`, '{"name": ')).status, 400);
      assert.is((await same('POST', `/spaces/${SPACE}/audiences`, { name: '!!!', definition: { query: "event('A').count() >= 1", type: 'USERS' } })).status, 400);
      await same('POST', `/spaces/${SPACE}/audiences`, { name: 'x', key: 'constructor', definition: { query: "event('A').count() >= 1", type: 'USERS' } });
      // reads: lists page by page, gets, references
      await same('GET', `/spaces/${SPACE}/audiences`);
      await same('GET', `/spaces/${SPACE}/computed-traits`);
      const first = await same('GET', `/spaces/${SPACE}/audiences?pagination.count=1`);
      const next = (first.body as { data: { pagination: { next: string | null } } }).data.pagination.next;
      assert.ok(typeof next === 'string' && next !== '', 'a next page');
      const second = await same('GET', `/spaces/${SPACE}/audiences?pagination.count=1&pagination.cursor=${encodeURIComponent(next)}`);
      const previous = (second.body as { data: { pagination: { previous: string | null } } }).data.pagination.previous;
      await same('GET', `/spaces/${SPACE}/audiences?pagination.count=1&pagination.cursor=${encodeURIComponent(previous!)}`);
      await same('GET', `/spaces/${SPACE}/computed-traits/{0}`);
      await same('GET', `/spaces/${SPACE}/audiences/{1}`);
      await same('GET', `/spaces/${SPACE}/audiences/{0}`);
      await same('GET', `/spaces/${SPACE}/audiences/aud_nothing_here`);
      await same('GET', `/spaces/${SPACE}/computed-traits/{0}/audience-references`);
      // edits: a name, a new query (a new version), a refused type change, a refused cadence change, re-enabled
      await same('PATCH', `/spaces/${SPACE}/audiences/{2}`, { name: 'Page viewers', description: 'saw a page lately' });
      await same('PATCH', `/spaces/${SPACE}/audiences/{2}`, { definition: { query: "event('Page Viewed').within(3 days).count() >= 2" } });
      await same('PATCH', `/spaces/${SPACE}/audiences/{2}`, { definition: { query: "event('Page Viewed').within(3 days).count() >= 2", type: 'ACCOUNTS' } });
      await same('PATCH', `/spaces/${SPACE}/audiences/{3}`, { computeCadence: { type: 'REALTIME' } });
      await same('PATCH', `/spaces/${SPACE}/audiences/{3}`, { enabled: false });
      await same('PATCH', `/spaces/${SPACE}/audiences/{3}`, { enabled: true, options: { backfillEventDataDays: 7 } });
      await same('PATCH', `/spaces/${SPACE}/audiences/{2}`, { definition: { query: "event('Page Viewed').within(3 days).count( >= 2" } });
      await same('GET', `/spaces/${SPACE}/audiences/{2}`);
      // deletes: refused while referenced, then done; the key stays reserved
      assert.is((await same('DELETE', `/spaces/${SPACE}/computed-traits/{0}`)).status, 409);
      assert.is((await same('DELETE', `/spaces/${SPACE}/audiences/{1}`)).status, 200);
      assert.is((await same('DELETE', `/spaces/${SPACE}/computed-traits/{0}`)).status, 200);
      await same('GET', `/spaces/${SPACE}/computed-traits/{0}`);
      assert.is((await same('POST', `/spaces/${SPACE}/computed-traits`, spend)).status, 409);
      await same('GET', `/spaces/${SPACE}/audiences`);
      // validations, and a body the schema refuses
      await same('POST', `/spaces/${SPACE}/audiences/validations`, { definition: { query: "trait('spend_30d') > 1 AND event('A').count() >= 1", type: 'USERS' } });
      await same('POST', `/spaces/${SPACE}/audiences/validations`, { definition: { query: "event('A').count( >= 1", type: 'USERS' } });
      await same('PATCH', `/spaces/${SPACE}/audiences/{2}`, { enabled: 'yes' });

      // a definitions file seeds the home as it seeds one registry (ids from the keys)
      oneNow = apiNow = clock();
      const entries = [{ space: SPACE, key: 'seeded', kind: 'audience' as const, query: "event('Signed Up').count() >= 1", target: 'USERS' as const, version: 2 }];
      assert.equal(await replicas[0]!.seed(entries), await registry.seed(entries));
      await same('GET', `/spaces/${SPACE}/audiences/aud_seeded`);

      // a second API process sees the first one's writes
      const other = side(apiApps[1]!);
      for (const path of [`/spaces/${SPACE}/audiences`, `/spaces/${SPACE}/computed-traits`]) {
        const [a, b] = [await api.call('GET', path), await other.call('GET', path)];
        assert.equal(b, a, path);
      }
      // two racing creates of one key, through the two processes: one wins, the other is refused as one process refuses the second
      apiNow = clock();
      const race = { name: 'Racing', definition: { query: "event('A').count() >= 1", type: 'USERS' } };
      const raced = await Promise.all([api.call('POST', `/spaces/${SPACE}/audiences`, race), other.call('POST', `/spaces/${SPACE}/audiences`, race)]);
      assert.equal(raced.map((r) => r.status).sort(), [201, 409]);
      const refusal = (raced.find((r) => r.status === 409)!.body as { errors: Array<{ type: string; message: string }> }).errors[0]!;
      const oneRefusal = (taken.body as { errors: Array<{ type: string; message: string }> }).errors[0]!;
      assert.is(refusal.type, oneRefusal.type);
      assert.match(refusal.message, /^the key racing is taken by aud_/);
      assert.equal(await replicas[1]!.sync(), await replicas[0]!.sync());

      // what the API role does not serve: 501 not-in-api-role, after auth
      for (const [method, path, body] of [
        ['POST', `/spaces/${SPACE}/audiences/previews`, { definition: { query: "event('A').count() >= 1", type: 'USERS' } }],
        ['GET', `/spaces/${SPACE}/audiences/previews/prv_x`, undefined],
        ['GET', `/spaces/${SPACE}/audiences/{2}/members`, undefined],
        ['GET', `/spaces/${SPACE}/audiences/{2}/size-history`, undefined],
        ['POST', `/spaces/${SPACE}/audiences/{2}/exports`, {}],
        ['GET', `/spaces/${SPACE}/destinations`, undefined],
      ] as const) {
        const r = await api.call(method, path, body);
        assert.equal([r.status, (r.body as { errors: Array<{ type: string }> }).errors[0]!.type], [501, 'not-in-api-role'], `${method} ${path}`);
        assert.is((await api.call(method, path, body, 'wrong_token')).status, 401);
      }
      assert.is((await api.call('GET', `/spaces/${SPACE}/audiences`, undefined, 'wrong_token')).status, 401);
    } finally {
      for (const r of replicas) await r.close();
      await nc.close();
      await registry.close();
      await events.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
