/**
 * The distributed mode as a user starts it (`npm run cluster -- --workers 2`): an ingest front, the
 * identity stage, two workers and the API role, each a process of its own, on a NATS server. Events
 * sent to the front's tracking API come out of the workers as changes; one worker is killed with
 * kill -9 mid-load and started again: every acknowledged user enters exactly once (no change lost,
 * none published twice), and both workers computed some of them. The users belong to four accounts
 * (group calls), each with users of both workers' partitions: every account enters an account
 * audience over all its users' views exactly once, after the kill. The API role's Profile API shows
 * every user in the audience, whichever worker computed it; its management API lists the definitions
 * file's audiences from the definitions home (seeded by the API process's --definitions-file), each
 * size the workers' members summed, and refuses members (501).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANGE_LOG, decodeChangeRecord, openAppendLog, type Change } from '../../engine/index.ts';
import { resolvedPartition } from '../../engine/cluster/resolved-records.ts';
import { startFlockCluster, type FlockCluster } from '../../bench/cluster/flock-cluster.ts';
import { natsServerAvailable } from '../support/nats-server.ts';
import { sendBatch } from '../support/tracking.ts';
import { until } from '../support/until.ts';

async function changes(cluster: FlockCluster, dir: string): Promise<Change[]> {
  const log = await openAppendLog({ dataDir: dir, natsUrl: cluster.nats.urls, log: CHANGE_LOG });
  try {
    return (await log.read(1, 1e6)).flatMap((e) => decodeChangeRecord(e.data));
  } finally {
    await log.close();
  }
}

const ACCOUNTS = 4;

/** one batch: each user's group call (its account: `acc-<i mod 4>`), then its view; status 200 = acknowledged (durable in the log). */
async function send(url: string, users: readonly string[]): Promise<number> {
  const timestamp = new Date().toISOString();
  const res = await sendBatch(
    url,
    users.flatMap((userId, i) => [
      { type: 'group', userId, groupId: `acc-${i % ACCOUNTS}`, messageId: `group-${userId}`, timestamp },
      { type: 'track', userId, event: 'Product Viewed', messageId: `view-${userId}`, timestamp },
    ]),
  );
  await res.arrayBuffer();
  return res.status;
}

if (natsServerAvailable('the distributed roles test')) {
  test('ingest, identity, 2 workers and the API role as processes: every acknowledged user enters once, through a worker’s kill -9 and restart; the API role serves their traits and the audiences with their sizes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-roles-'));
    const defs = join(root, 'defs.json');
    writeFileSync(
      defs,
      JSON.stringify({
        definitions: [
          { space: 'spa_default', key: 'viewers', kind: 'audience', query: `event('Product Viewed').count() >= 1` },
          // (2 or 3 views a batch per account: an account reaches 30 views at the 10th batch or later, after the kill)
          { space: 'spa_default', key: 'busy_accounts', kind: 'audience', target: 'ACCOUNTS', query: `event('Product Viewed').count() >= 30` },
        ],
      }),
    );
    const cluster = await startFlockCluster({ nats: 1, workers: 2, dir: join(root, 'cluster'), flockArgs: ['--definitions-file', defs, '--tick', '100ms'] });
    try {
      assert.equal(
        cluster.roles.map((r) => r.name),
        ['identity', 'worker-0', 'worker-1', 'api'],
      );
      const acknowledged: string[] = [];
      for (let b = 0; b < 20; b++) {
        const users = Array.from({ length: 10 }, (_, i) => `user-${b}-${i}`);
        if (b === 8) {
          // mid-load: worker-1 dies without a word, and comes back with its data dir
          cluster.roles.find((r) => r.name === 'worker-1')!.child.kill('SIGKILL');
          await cluster.respawn('worker-1');
        }
        assert.is(await send(cluster.url, users), 200);
        acknowledged.push(...users);
      }
      const final = await until(
        'an enter for every acknowledged user and every account',
        async () => {
          const list = await changes(cluster, root);
          return list.filter((c) => c.kind === 'enter').length >= acknowledged.length + ACCOUNTS ? list : undefined;
        },
        60_000,
        200,
      );
      const ids = final.map((c) => c.id);
      assert.is(new Set(ids).size, ids.length, 'no change published twice');
      const users = final.filter((c) => c.collection === 'users');
      const entered = users.filter((c) => c.kind === 'enter').map((c) => (c.cause?.type === 'event' ? c.cause.messageId.replace(/^view-/, '') : ''));
      assert.equal(entered.sort(), [...acknowledged].sort());
      // the users' profiles spread over both workers' partitions (even and odd)
      const parities = new Set(users.map((c) => resolvedPartition(c.profileId, 16) % 2));
      assert.equal([...parities].sort(), [0, 1]);
      // each account entered once, counting the views of all its users (of both workers' partitions)
      const accounts = final.filter((c) => c.collection === 'accounts');
      assert.equal(accounts.map((c) => `${c.profileId} ${c.kind}`).sort(), Array.from({ length: ACCOUNTS }, (_, k) => `group_id:acc-${k} enter`));
      for (const c of accounts) assert.equal(new Set(c.users!.map((u) => resolvedPartition(u, 16) % 2)).size, 2, `${c.profileId}'s users are on both workers`);

      // the API role: every user's traits, read from the worker of its partition (the definitions file's audience)
      const access = `Basic ${Buffer.from('dev_access_token:').toString('base64')}`;
      for (const user of acknowledged) {
        const res = await fetch(`${cluster.apiUrl}/v1/spaces/spa_default/collections/users/profiles/user_id:${user}/traits`, { headers: { authorization: access } });
        assert.equal([res.status, ((await res.json()) as { traits: unknown }).traits], [200, { viewers: true }], user);
      }
      // the management API: the definitions file's audiences from the definitions home, each size the workers' members summed
      const management = await fetch(`${cluster.apiUrl}/spaces/spa_default/audiences`, { headers: { authorization: 'Bearer dev_management_token' } });
      const listed = (await management.json()) as { data: { audiences: Array<{ key: string; size: { count: number | null } }> } };
      assert.equal([management.status, listed.data.audiences.map((a) => [a.key, a.size.count])], [200, [['viewers', acknowledged.length], ['busy_accounts', ACCOUNTS]]]);
      const members = await fetch(`${cluster.apiUrl}/spaces/spa_default/audiences/aud_viewers/members`, { headers: { authorization: 'Bearer dev_management_token' } });
      assert.equal([members.status, ((await members.json()) as { errors: Array<{ type: string }> }).errors[0]!.type], [501, 'not-in-api-role']);
      assert.is((await fetch(`${cluster.apiUrl}/readyz`)).status, 200);
    } finally {
      await cluster.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
