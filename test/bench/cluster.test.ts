/**
 * `npm run cluster`'s code: a 3-node NATS cluster with Flock's streams at R3, Flock ingesting over
 * HTTP and publishing changes; then the node leading FLOCK_EVENTS is killed with kill -9 mid-load,
 * and every event the service acknowledged is still applied once, and processing goes on.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { CHANGE_LOG, decodeChangeRecord, openAppendLog, type Change } from '../../engine/index.ts';
import { startFlockCluster, type FlockCluster } from '../../bench/cluster/flock-cluster.ts';
import { natsServerAvailable } from '../support/nats-server.ts';
import { sleep, until } from '../support/until.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-cluster-test-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const AUTH = `Basic ${Buffer.from('dev_write_key:').toString('base64')}`;
/** the live nodes' URLs (a client given a dead node first would wait out its connect timeout). */
const liveUrls = (cluster: FlockCluster) => cluster.nats.nodes.filter((n) => n.running()).map((n) => n.url).join(',');

/** the change log, or undefined while the cluster moves a stream's leader after the kill (a reader then tries again). */
async function changesNow(cluster: FlockCluster): Promise<Change[] | undefined> {
  try {
    return await changes(cluster);
  } catch (error) {
    if (process.env.DBG) console.error('CHANGES', error, (error as Error).cause);
    return undefined;
  }
}

async function changes(cluster: FlockCluster): Promise<Change[]> {
  const log = await openAppendLog({ dataDir: root, natsUrl: liveUrls(cluster), log: CHANGE_LOG });
  try {
    return (await log.read(1, 1e6)).flatMap((e) => decodeChangeRecord(e.data));
  } finally {
    await log.close();
  }
}

/** the engine's position, lag and pause from Flock's /metrics, for a failure's message. */
async function engineState(cluster: FlockCluster): Promise<string> {
  try {
    const text = await (await fetch(`${cluster.url}/metrics`)).text();
    return text.split('\n').filter((l) => /^flock_(engine_(position|lag_events|paused|checkpoints)|log_reachable)/.test(l)).join('; ');
  } catch (error) {
    return `no metrics: ${String(error)}`;
  }
}

/** one batch of views; status 200 = acknowledged (durable in the log). */
async function send(url: string, users: readonly string[]): Promise<number> {
  try {
    const res = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ batch: users.map((userId) => ({ type: 'track', userId, event: 'Product Viewed', messageId: `view-${userId}`, timestamp: new Date().toISOString() })) }),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

if (natsServerAvailable('the NATS cluster test')) {
  test('R3 streams on a 3-node cluster; events through Flock to the change log; kill -9 of the events stream leader mid-load loses no acknowledged event', async () => {
    const defs = join(root, 'defs.json');
    const lines: Record<string, unknown>[] = [];
    writeFileSync(defs, JSON.stringify({ definitions: [{ space: 'spa_default', key: 'viewers', kind: 'audience', query: `event('Product Viewed').count() >= 1` }] }));
    const cluster = await startFlockCluster({ nats: 3, dir: join(root, 'cluster'), flockArgs: ['--definitions-file', defs, '--nats-timeout', '2s'], onFlockLine: (line) => lines.push(line) });
    const nc = await connect({ servers: cluster.nats.nodes.map((n) => n.url), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    try {
      assert.is(cluster.replicas, 3);
      const jsm = await jetstreamManager(nc);
      for (const name of ['FLOCK_EVENTS', 'FLOCK_CHANGES', 'KV_FLOCK_EVENTS_META', 'KV_FLOCK_CHANGES_META']) {
        const info = await jsm.streams.info(name);
        assert.is(info.config.num_replicas, 3, name);
        // cluster.replicas lists the copies other than the leader's
        assert.is(1 + (info.cluster?.replicas?.length ?? 0), 3, `${name}: ${JSON.stringify(info.cluster)}`);
      }
      // a stream created at R1 is rescaled when opened with replicas 3, and one opened without replicas keeps what it has
      const rescaled = { name: 'rescale', stream: 'FLOCK_RESCALE', subjectPrefix: 'flock.rescale' };
      await (await openAppendLog({ dataDir: root, natsUrl: cluster.nats.urls, log: rescaled })).close();
      assert.is((await jsm.streams.info('FLOCK_RESCALE')).config.num_replicas, 1);
      await (await openAppendLog({ dataDir: root, natsUrl: cluster.nats.urls, log: rescaled, stream: { replicas: 3 } })).close();
      assert.is((await jsm.streams.info('FLOCK_RESCALE')).config.num_replicas, 3);
      await (await openAppendLog({ dataDir: root, natsUrl: cluster.nats.urls, log: rescaled })).close();
      assert.is((await jsm.streams.info('FLOCK_RESCALE')).config.num_replicas, 3);
      await until('readiness', async () => ((await fetch(`${cluster.url}/readyz`)).status === 200 ? true : undefined));

      // before the kill: a first wave applied and on the change log
      const first = Array.from({ length: 20 }, (_, i) => `before-${i}`);
      assert.is(await send(cluster.url, first), 200);
      await until('the first enters', async () => ((await changes(cluster)).filter((c) => c.kind === 'enter').length >= first.length ? true : undefined));

      // the load: batches of 10 new users, each retried (same messageIds, as Segment clients do) until acknowledged
      const leader = (await jsm.streams.info('FLOCK_EVENTS')).cluster?.leader;
      const victim = cluster.nats.nodes.find((n) => n.name === leader);
      assert.ok(victim !== undefined, `the FLOCK_EVENTS leader ${String(leader)} is one of the nodes`);
      const acknowledged = new Set(first);
      let retries = 0;
      const BATCHES = 30;
      for (let b = 0; b < BATCHES; b++) {
        const users = Array.from({ length: 10 }, (_, i) => `load-${b}-${i}`);
        if (b === 10) await victim.kill();
        await until(`batch ${b} acknowledged`, async () => {
          if ((await send(cluster.url, users)) === 200) return true;
          retries++;
          return undefined;
        });
        for (const u of users) acknowledged.add(u);
      }
      assert.not.ok(victim.running());

      // every acknowledged event applied exactly once, after the kill included
      let seen = 0;
      const all = await until(
        'an enter for every acknowledged user',
        async () => {
          const list = await changesNow(cluster);
          if (list !== undefined) seen = list.filter((c) => c.kind === 'enter').length;
          return list !== undefined && seen >= acknowledged.size ? list : undefined;
        },
        45_000,
      ).catch(async (error: unknown) => {
        throw new Error(`${String(error)}: ${seen} of ${acknowledged.size} enters; the engine: ${await engineState(cluster)}; Flock's last lines: ${JSON.stringify(lines.filter((l) => l['message'] !== 'event log append failed').slice(-8))}`);
      });
      await sleep(500);
      const final = await until('the change log', () => changesNow(cluster));
      const ids = final.map((c) => c.id);
      assert.is(new Set(ids).size, ids.length, 'no change published twice');
      // each user's enter names the event that made it (`view-<user>`)
      const entered = new Set(final.filter((c) => c.kind === 'enter').map((c) => (c.cause?.type === 'event' ? c.cause.messageId.replace(/^view-/, '') : '')));
      for (const user of acknowledged) assert.ok(entered.has(user), `${user} was acknowledged and entered`);
      assert.is(entered.size, acknowledged.size);
      assert.is(all.length >= acknowledged.size, true);
      // processing goes on with two nodes: the streams have a new leader and Flock is ready
      const after = (await jsm.streams.info('FLOCK_EVENTS')).cluster?.leader;
      assert.ok(after !== undefined && after !== leader, `a new FLOCK_EVENTS leader (was ${String(leader)}, now ${String(after)})`);
      assert.is((await fetch(`${cluster.url}/readyz`)).status, 200);
      console.log(`  cluster: ${acknowledged.size} events acknowledged, ${retries} batch retries around the kill of ${String(leader)}`);
    } finally {
      await nc.close();
      await cluster.stop();
    }
  });
}

test.run();
