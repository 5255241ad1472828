/**
 * At least once across kill -9: the delivery service runs in a child process and is killed (SIGKILL)
 * twice mid-backfill and mid-changes, then restarted; afterwards the receiver holds every message an
 * uninterrupted delivery (a second destination, in this process) sent — the same content, nothing
 * missing — and any duplicate repeats an earlier messageId with equal content.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHANGE_LOG, openAppendLog } from '../../../engine/log/open-event-log.ts';
import { deduplicated, startReceiver, type Receiver } from '../../support/receiver.ts';
import { event, NOW, serviceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;
const repo = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));

function child(dataDir: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repo, 'test/support/delivery-child.ts'), dataDir], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve(proc));
    proc.once('exit', (code) => reject(new Error(`delivery child exited with ${code} before it was ready`)));
  });
}
const kill = (proc: ChildProcess) => new Promise<void>((resolve) => (proc.once('exit', () => resolve()), proc.kill('SIGKILL')));
const until = async (ready: () => boolean, what: string) => {
  for (let i = 0; i < 3000; i++) {
    if (ready()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};
/** A message's content without its ids and send time (two destinations send the same content under different ids). */
const content = (m: Json) => {
  const { messageId: _m, sentAt: _s, integrations: _i, ...rest } = m;
  return JSON.stringify(rest);
};

test('kill -9 mid-delivery: nothing undelivered, duplicates only with equal messageIds', async () => {
  const s = serviceApp({ withDestinations: true });
  const crashed: Receiver = await startReceiver();
  const reference: Receiver = await startReceiver();
  crashed.fault = () => ({ kind: 'slow', ms: 15 });
  let proc: ChildProcess | undefined;
  try {
    const buyers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'b', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
    await s.runEngine(Array.from({ length: 200 }, (_, i) => event({ type: 'track', event: 'Order Completed', userId: `u${i}`, timestamp: NOW - 10_000 })));
    const create = async (url: string) => {
      const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'same', kind: 'webhook', settings: { url }, limits: { eventsPerRequest: 5, concurrency: 2 } })).json()) as Json)['data'].destination;
      await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: buyers, track: true });
      return d.id as string;
    };
    const changeLog = await openAppendLog({ dataDir: s.dir, log: CHANGE_LOG });
    const caughtUp = async (id: string) => {
      const last = await changeLog.lastSeq();
      const store = s.destinations!;
      await until(() => (store.cursor(id) ?? 0) >= last && store.connections(id).every((c) => store.backfill(c.id)?.done === true), `${id} to catch up`);
    };
    const killed = await create(crashed.url);
    proc = await child(s.dir);
    await until(() => crashed.messages.length >= 100, 'the backfill to be under way');
    await kill(proc);
    // changes while it is down, then a second kill mid-changes
    await s.runEngine(Array.from({ length: 200 }, (_, i) => event({ type: 'track', event: 'Order Completed', userId: `v${i}`, timestamp: NOW - 5000 })));
    proc = await child(s.dir);
    const before = crashed.messages.length;
    await until(() => crashed.messages.length >= before + 300, 'delivery to go on');
    await kill(proc);
    proc = await child(s.dir);
    await caughtUp(killed);

    // the reference: a destination the same (last) child delivers without interruption, from a backfill of the same state
    const referenceId = await create(reference.url);
    await caughtUp(referenceId);
    await kill(proc);
    proc = undefined;
    await changeLog.close();

    // the killed destination sent the first 200 members as its backfill and the next 200 as changes;
    // the reference backfilled all 400: every call of the reference is among the killed one's
    const call = (m: Json) => `${m['type']}|${m['userId']}|${m['event'] ?? ''}|${JSON.stringify(m['traits'] ?? m['properties'])}`;
    const want = new Set(deduplicated(reference.messages).map(call));
    assert.is(want.size, 800, '400 members, Identify and Track');
    assert.equal(new Set(deduplicated(crashed.messages).map(call)), want);
    const byId = new Map<string, string>();
    for (const m of crashed.messages) {
      assert.is(byId.get(m['messageId']) ?? content(m), content(m), 'a duplicate repeats its messageId with the same content');
      byId.set(m['messageId'], content(m));
    }
    assert.ok(crashed.messages.length >= byId.size);
  } finally {
    if (proc !== undefined) await kill(proc);
    await crashed.close();
    await reference.close();
    await s.close();
  }
});

test.run();
