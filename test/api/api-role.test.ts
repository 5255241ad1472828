/**
 * The API role (`--role api`, engine/cluster/remote-profiles.ts): over a cluster — the identity stage
 * and 2 workers over 16 resolved partitions, on a private nats-server — the Profile API answers every
 * route it serves (traits, external_ids, metadata, events, links) with the same status and body as one
 * process over the same log, for every identifier of the workload (user ids, anonymous ids, emails,
 * canonical and merged-away `use_…` ids), pages followed through their cursors; events of profiles
 * that absorbed profiles of other partitions come from several workers. Account profiles
 * (`group_id:<id>`, any spelling) likewise, with account audiences and traits computed over shadows of
 * their users in the account's partition. What it does not serve answers
 * 501 with a stable code; a partition whose worker stopped answers 503 `partition_unavailable`, and no
 * identity owner 503 `identity_unavailable`, while the other worker's profiles are still served.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { createApp } from '../../api/app.ts';
import { runIdentityNode, type IdentityNodeStats } from '../../engine/cluster/identity-node.ts';
import { RESOLVED_LOG, resolvedPartition } from '../../engine/cluster/resolved-records.ts';
import { registryPlans } from '../../engine/cluster/roles.ts';
import { WorkerNode } from '../../engine/cluster/worker-node.ts';
import { DefinitionRegistry } from '../../engine/definitions/registry.ts';
import { DefinitionsReplica, identityLinkIndex, identityProfileLocator, openDefinitionsBucket, readOnlyStore, remoteProfiles, remoteSizes, staticSpaceDirectory } from '../../engine/index.ts';
import { openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { generateEvents } from '../../bench/workload/generator.ts';
import { natsServerAvailable, startNatsServer } from '../support/nats-server.ts';
import { oneProcessChanges } from '../support/one-process.ts';
import { until } from '../support/until.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
const PARTITIONS = 16;
const SPACE = 'spa_bench';
const TOKEN = 'acc_bench_token';
const MANAGEMENT = 'mgt_bench_token';
const EVENTS = [...generateEvents({ seed: 7, events: 2500, profiles: 80, spanMs: 3 * DAY, end: END, identifyShare: 0.08, identity: { maxDevices: 3 }, accounts: { count: 12, groupShare: 0.04 } })];
const SPACES = staticSpaceDirectory([{ id: SPACE, name: 'Bench', writeKeys: [{ key: 'wk_bench_token', sourceId: 'src_bench' }], accessTokens: [TOKEN], managementTokens: [MANAGEMENT] }]);
const DEFINITIONS = [
  { key: 'viewed_recently', kind: 'audience', query: "event('Product Viewed').within(6 hours).count() >= 1" },
  { key: 'cart_no_order', kind: 'audience', query: "event('Product Added').within(12 hours).count() >= 1 AND NOT event('Order Completed').within(12 hours).count() >= 1" },
  { key: 'pro_users', kind: 'audience', query: "trait('plan') = 'pro'" },
  { key: 'revenue_1d', kind: 'trait', query: "event('Order Completed').within(1 days).sum(property('total'))" },
  { key: 'views_12h', kind: 'trait', query: "event('Product Viewed').within(12 hours).count()" },
] as const;
// account definitions: computed where the account's partition is, over shadows of its users
const ACCOUNT_DEFINITIONS = [
  { key: 'any_viewer', kind: 'audience', query: "ANY event('Product Viewed').count() >= 1" },
  { key: 'all_viewers', kind: 'audience', query: "ALL event('Product Viewed').within(1 days).count() >= 1" },
  { key: 'account_views_1d', kind: 'trait', query: "event('Product Viewed').within(1 days).count()" },
] as const;

const basic = (token: string) => `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
const profilePath = (identifier: string, resource: string, collection = 'users') => `/v1/spaces/${SPACE}/collections/${collection}/profiles/${encodeURIComponent(identifier)}/${resource}`;

type App = ReturnType<typeof createApp>;
async function get(app: App, path: string, auth = basic(TOKEN)): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const res = await app.request(path, { headers: { authorization: auth } });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
}

if (natsServerAvailable('the API role test')) {
  test('the API role over an identity stage and 2 workers answers the Profile API as one process; 501 and 503 with stable codes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-api-role-'));
    const nats = await startNatsServer();
    const events = await openEventLog({ dataDir: root, natsUrl: nats.url });
    const registry = DefinitionRegistry.open(join(root, 'registry'));
    const closing: Array<() => Promise<unknown>> = [];
    const stopIdentity = new AbortController();
    const stopWorkers = [new AbortController(), new AbortController()];
    const running: Array<Promise<unknown>> = [];
    try {
      const entries = [
        ...DEFINITIONS.map((d) => ({ space: SPACE, key: d.key, kind: d.kind, query: d.query, target: 'USERS' as const, version: 1 })),
        ...ACCOUNT_DEFINITIONS.map((d) => ({ space: SPACE, key: d.key, kind: d.kind, query: d.query, target: 'ACCOUNTS' as const, version: 1 })),
      ];
      const seeded = await registry.seed(entries);
      assert.equal(seeded.problems, []);
      const { plans } = registryPlans(registry);
      await events.append(EVENTS);
      const end = await events.lastSeq();

      // one process over the log: the reference
      await oneProcessChanges(join(root, 'single'), events, plans);
      const single = readOnlyStore(join(root, 'single', 'engine'));
      closing.push(() => single.close());
      const one = createApp({ eventLog: events, spaces: SPACES, registry, store: single, locator: identityProfileLocator(single), profileLinks: identityLinkIndex(single), eventSource: events, clock: () => END });

      // the cluster: the identity stage and 2 workers of 8 partitions, answering reads while they hold their leases
      let identity: Readonly<IdentityNodeStats> | undefined;
      running.push(runIdentityNode({ natsUrl: nats.url, dataDir: join(root, 'identity'), partitions: PARTITIONS, rules: new Map(), clock: 'event', tickMs: 50, holder: 'id', onState: (s) => (identity = s) }, stopIdentity.signal));
      const workers = ['0-7', '8-15'].map((set, w) => new WorkerNode({ natsUrl: nats.url, dataDir: join(root, `worker-${w}`), partitions: set, partitionCount: PARTITIONS, plans, registry, holder: `w${w}`, snapshotMs: 600_000, engine: { tickMs: 50 } }));
      workers.forEach((node, w) => running.push(node.run(stopWorkers[w]!.signal)));
      const resolved = await openAppendLog({ dataDir: root, natsUrl: nats.url, log: RESOLVED_LOG });
      closing.push(() => resolved.close());
      await until(
        'the cluster to compute the log',
        async () => {
          if ((identity?.stage?.position ?? 0) < end) return undefined;
          const last = await resolved.lastSeq();
          return workers.every((n) => n.stats.state === 'active' && n.stats.checkpointed >= last) ? true : undefined;
        },
        120_000,
        50,
      );

      const nc = await connect({ servers: nats.url });
      closing.push(() => nc.close());
      // the definitions home, seeded with the same file (the API role's management routes read it)
      const home = await DefinitionsReplica.open({ kv: await openDefinitionsBucket(nc), path: join(root, 'api-definitions') });
      closing.push(() => home.close());
      assert.equal((await home.seed(entries)).problems, []);
      const api = createApp({
        eventLog: events,
        spaces: SPACES,
        cluster: remoteProfiles(nc, { partitions: PARTITIONS, timeoutMs: 30_000 }),
        clusterDefinitions: home,
        clusterSizes: remoteSizes(nc, { partitions: PARTITIONS, timeoutMs: 30_000 }),
        clock: () => END,
      });

      // every identifier of the workload, and the use_ ids (canonical and merged away) one process knows
      const store = single.get()!;
      const identifiers = new Set<string>();
      for (const { event: e } of await events.read(1, end)) {
        if (e.userId !== null) identifiers.add(`user_id:${e.userId}`);
        if (e.anonymousId !== null) identifiers.add(`anonymous_id:${e.anonymousId}`);
        const email = e.traits?.['email'];
        if (typeof email === 'string') identifiers.add(`email:${email}`);
      }
      const profiles = new Set<string>();
      const locator = identityProfileLocator(single);
      for (const identifier of identifiers) {
        const found = locator.locate(SPACE, 'users', identifier);
        if (found.ok) profiles.add(found.profileId);
      }
      let spanning = 0;
      for (const id of [...profiles]) {
        const members = store.events.members(SPACE, id).map((m) => m.profileId);
        for (const m of members) identifiers.add(m);
        if (new Set(members.map((m) => resolvedPartition(m, PARTITIONS))).size > 1) spanning++;
      }
      assert.ok(profiles.size > 40, `profiles (${profiles.size})`);
      assert.ok(spanning > 3, `profiles whose merged profiles were computed in other partitions (${spanning})`);
      identifiers.add('user_id:nobody-at-all');
      identifiers.add('not-an-identifier');

      const same = async (path: string): Promise<{ status: number; body: unknown }> => {
        const [a, b] = await Promise.all([get(one, path), get(api, path)]);
        assert.equal({ status: b.status, body: b.body }, { status: a.status, body: a.body }, path);
        return a;
      };
      /** follows `next` cursors page by page, comparing each page. */
      const pages = async (path: string): Promise<number> => {
        let n = 0;
        for (let url: string | undefined = path; url !== undefined; n++) {
          const { status, body } = await same(url);
          const cursor = (body as { cursor?: { has_more: boolean; next: string } }).cursor;
          url = status === 200 && cursor?.has_more === true ? `${path}&next=${encodeURIComponent(cursor.next)}` : undefined;
        }
        return n;
      };
      let found = 0;
      let withEvents = 0;
      let linked = 0;
      // (a profile's events and pages are read once, by its first identifier: every identifier of it locates the same profile)
      const paged = new Set<string>();
      const check = async (identifier: string) => {
        const traits = await same(profilePath(identifier, 'traits?limit=200&verbose=true'));
        if (traits.status !== 200) return;
        found++;
        await same(profilePath(identifier, 'traits?class=audience&include=viewed_recently,pro_users,cart_no_order'));
        await same(profilePath(identifier, 'external_ids?limit=100'));
        await same(profilePath(identifier, 'metadata'));
        const links = await same(profilePath(identifier, 'links'));
        if ((links.body as { data: unknown[] }).data.length > 0) linked++;
        const located = locator.locate(SPACE, 'users', identifier);
        if (!located.ok || paged.has(located.profileId)) return;
        paged.add(located.profileId);
        const all = await same(profilePath(identifier, 'events?limit=100&sort=asc'));
        if ((all.body as { data: unknown[] }).data.length > 0) withEvents++;
        await same(profilePath(identifier, `events?limit=5&include=Product%20Viewed&start=${new Date(END - DAY).toISOString()}`));
        await pages(profilePath(identifier, 'events?limit=7'));
        await pages(profilePath(identifier, 'traits?limit=2'));
        await pages(profilePath(identifier, 'external_ids?limit=1'));
      };
      const list = [...identifiers];
      for (let i = 0; i < list.length; i += 8) await Promise.all(list.slice(i, i + 8).map(check));
      assert.ok(found > 100, `identifiers found (${found})`);
      assert.ok(withEvents > 40 && linked > 10, `profiles with events (${withEvents}), identifiers with account links (${linked})`);

      // account profiles: found by the identity owner, read from the worker of the account's partition
      const accounts = new Set<string>();
      for (const { event: e } of await events.read(1, end)) if (e.type === 'group' && e.groupId !== null) accounts.add(e.groupId);
      assert.ok(accounts.size >= 8, `accounts (${accounts.size})`);
      assert.ok(new Set([...accounts].map((a) => resolvedPartition(`group_id:${a}`, PARTITIONS) < 8)).size === 2, 'accounts on both workers');
      let accountMembers = 0;
      for (const groupId of [...accounts, 'nobody-at-all']) {
        for (const identifier of [`group_id:${groupId}`, `group_id:${groupId.toUpperCase()}`]) {
          const traits = await same(profilePath(identifier, 'traits?limit=200&verbose=true', 'accounts'));
          if (traits.status !== 200) continue;
          const values = (traits.body as { traits: Record<string, { value: unknown } | undefined> }).traits;
          if (values['any_viewer']?.value === true && typeof values['account_views_1d']?.value === 'number') accountMembers++;
          await same(profilePath(identifier, 'traits?class=audience&include=any_viewer,all_viewers', 'accounts'));
          await same(profilePath(identifier, 'external_ids', 'accounts'));
          await same(profilePath(identifier, 'metadata', 'accounts'));
          await same(profilePath(identifier, 'links?limit=20', 'accounts'));
          await same(profilePath(identifier, 'links?limit=3', 'accounts'));
          await same(profilePath(identifier, 'events?limit=20', 'accounts'));
          await pages(profilePath(identifier, 'traits?limit=1', 'accounts'));
        }
      }
      assert.ok(accountMembers > 2, `accounts in an account audience (${accountMembers})`);
      for (const identifier of ['user_id:u1', 'not-an-identifier', 'group_id:']) await same(profilePath(identifier, 'traits', 'accounts'));

      // what the API role does not serve: 501 with a stable code, after auth
      const anyone = [...profiles][0]!;
      const timeline = await get(api, profilePath(anyone, 'timeline'));
      assert.equal([timeline.status, (timeline.body as { error: { code: string } }).error.code], [501, 'not_in_api_role']);
      assert.is((await get(api, profilePath(anyone, 'timeline'), basic('wrong_token'))).status, 401);
      const members = await get(api, `/spaces/${SPACE}/audiences/aud_pro_users/members`, `Bearer ${MANAGEMENT}`);
      assert.equal([members.status, (members.body as { errors: Array<{ type: string }> }).errors[0]!.type], [501, 'not-in-api-role']);
      assert.is((await get(api, `/spaces/${SPACE}/audiences`, 'Bearer wrong_token')).status, 401);

      // the management API's definitions: the home's records, each size the workers' outputs summed — one process's answers
      // (timestamps aside: the home was seeded a moment after the one process's registry)
      const untimed = (body: unknown): unknown => JSON.parse(JSON.stringify(body, (k, v: unknown) => (k === 'createdAt' || k === 'updatedAt' ? undefined : v)));
      let sized = 0;
      for (const path of [`/spaces/${SPACE}/audiences`, `/spaces/${SPACE}/computed-traits`, ...[...DEFINITIONS, ...ACCOUNT_DEFINITIONS].map((d) => `/spaces/${SPACE}/${d.kind === 'audience' ? 'audiences' : 'computed-traits'}/${d.kind === 'audience' ? 'aud' : 'tra'}_${d.key}`)]) {
        const [a, b] = await Promise.all([get(one, path, `Bearer ${MANAGEMENT}`), get(api, path, `Bearer ${MANAGEMENT}`)]);
        assert.equal({ status: b.status, body: untimed(b.body) }, { status: a.status, body: untimed(a.body) }, path);
        const size = (a.body as { data: { audience?: { size: { count: number | null } }; computedTrait?: { size: { count: number | null } } } }).data;
        const count = (size.audience ?? size.computedTrait)?.size.count;
        if (typeof count === 'number' && count > 0) sized++;
      }
      assert.ok(sized >= 5, `definitions with members (${sized})`);

      // a worker stops: its partitions' profiles are unavailable (503), the other worker's still served
      const served = [...profiles].find((id) => resolvedPartition(id, PARTITIONS) < 8)!;
      const orphan = [...profiles].find((id) => resolvedPartition(id, PARTITIONS) >= 8)!;
      stopWorkers[1]!.abort();
      await until('worker 1 to stop', async () => (workers[1]!.stats.state === 'stopped' ? true : undefined), 30_000, 20);
      const down = await get(api, profilePath(orphan, 'traits'));
      assert.equal([down.status, (down.body as { error: { code: string } }).error.code, down.retryAfter], [503, 'partition_unavailable', '1']);
      assert.equal((await get(api, profilePath(orphan, 'events'))).status, 503);
      const noSize = await get(api, `/spaces/${SPACE}/audiences`, `Bearer ${MANAGEMENT}`);
      assert.equal([noSize.status, (noSize.body as { errors: Array<{ type: string }> }).errors[0]!.type, noSize.retryAfter], [503, 'partition_unavailable', '1']);
      await same(profilePath(served, 'traits?verbose=true'));
      // the identity owner stops: nothing can be located
      stopIdentity.abort();
      await until('the identity node to stop', async () => (identity?.state === 'stopped' ? true : undefined), 30_000, 20);
      const noIdentity = await get(api, profilePath(served, 'traits'));
      assert.equal([noIdentity.status, (noIdentity.body as { error: { code: string } }).error.code], [503, 'identity_unavailable']);
    } finally {
      stopIdentity.abort();
      for (const s of stopWorkers) s.abort();
      await Promise.allSettled(running);
      for (const close of closing.reverse()) await close().catch(() => {});
      await registry.close();
      await events.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
