/**
 * Leases in a JetStream KV bucket (engine/cluster/lease.ts) against a private nats-server, each
 * contender on its own connection as separate processes would be: one holder at a time, a renewing
 * holder keeps it, a release hands it over, a holder that cannot renew loses it before a standby
 * takes it, two standbys racing for an expired lease get it once, and a holder whose entry another
 * wrote learns it at its next renewal.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { Lease, openLeaseBucket, type LeaseLostReason, type LeaseOptions } from '../../../engine/cluster/lease.ts';
import { natsServerAvailable, startNatsServer, type NatsServer } from '../../support/nats-server.ts';
import { sleep, until } from '../../support/until.ts';

const TTL = 600;

interface Contender {
  readonly nc: NatsConnection;
  readonly kv: KV;
  readonly lost: LeaseLostReason[];
  lostAt: number;
  options(name: string, extra?: Partial<LeaseOptions>): LeaseOptions;
}

async function contender(nats: NatsServer, holder: string): Promise<Contender> {
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const kv = await openLeaseBucket(nc);
  const c: Contender = {
    nc,
    kv,
    lost: [],
    lostAt: Number.NaN,
    options: (name, extra = {}) => ({
      kv,
      name,
      holder,
      ttlMs: TTL,
      onLost: (reason) => {
        c.lost.push(reason);
        c.lostAt = performance.now();
      },
      ...extra,
    }),
  };
  return c;
}

/** The message `p` rejects with ('' when it resolves). */
const failure = (p: Promise<unknown>): Promise<string> => p.then(() => '', (error: unknown) => (error as Error).message);

/** Resolves with what `p` gave, or 'pending' when it has not settled after `ms`. */
const settledWithin = <T>(p: Promise<T>, ms: number): Promise<T | 'pending'> => Promise.race([p, sleep(ms).then(() => 'pending' as const)]);

if (natsServerAvailable('the lease tests')) {
  let nats: NatsServer;
  const open: NatsConnection[] = [];
  const stop = new AbortController();
  const join = async (holder: string) => {
    const c = await contender(nats, holder);
    open.push(c.nc);
    return c;
  };

  test.before(async () => {
    nats = await startNatsServer();
  });
  test.after(async () => {
    stop.abort();
    for (const nc of open) if (!nc.isClosed()) await nc.close();
    await nats.dispose();
  });

  test('one holder at a time; a renewing holder keeps it past many TTLs; a release hands it over', async () => {
    const [a, b] = [await join('a'), await join('b')];
    const contending = [Lease.acquire(a.options('worker.0-7'), stop.signal), Lease.acquire(b.options('worker.0-7'), stop.signal)];
    const { i, lease: first } = await Promise.race(contending.map((p, i) => p.then((lease) => ({ i, lease }))));
    assert.ok(first !== undefined && first.held);
    const waiting = contending[1 - i]!;
    assert.is(await settledWithin(waiting, 4 * TTL), 'pending', 'a standby took a lease that was being renewed');
    assert.ok(first.held);
    assert.ok(first.revision > 1, `renewed (revision ${first.revision})`);
    const entry = (await a.kv.get('worker.0-7'))!.json<{ holder: string; ttlMs: number; expiresAt: string }>();
    assert.is(entry.holder, first.holder);
    assert.is(entry.ttlMs, TTL);
    assert.ok(Number.isFinite(Date.parse(entry.expiresAt)));
    await first.release();
    assert.not.ok(first.held);
    assert.ok(first.signal.aborted);
    const next = await waiting;
    assert.ok(next !== undefined && next.held && next.holder !== first.holder);
    assert.equal([...a.lost, ...b.lost], [], 'a release is not a loss');
    await next.release();
  });

  test('a holder that cannot renew loses it by itself before a standby takes it; racing standbys get it once', async () => {
    const [a, b, c] = [await join('a'), await join('b'), await join('c')];
    const held = (await Lease.acquire(a.options('worker.8-15'), stop.signal))!;
    assert.ok(held.held);
    const b1 = Lease.acquire(b.options('worker.8-15'), stop.signal);
    const c1 = Lease.acquire(c.options('worker.8-15'), stop.signal);
    await sleep(TTL);
    assert.is(await settledWithin(Promise.race([b1, c1]), 0), 'pending');
    // the holder's connection goes away: its renewals fail
    await a.nc.close();
    const winner = (await Promise.race([b1, c1]))!;
    const acquiredAt = performance.now();
    assert.ok(winner.held);
    assert.equal(a.lost, ['expired']);
    assert.not.ok(held.held);
    assert.ok(held.signal.aborted);
    assert.ok(a.lostAt <= acquiredAt, 'the old holder counted the lease lost before the standby took it');
    const loser = winner.holder === 'b' ? c1 : b1;
    assert.is(await settledWithin(loser, 3 * TTL), 'pending', 'both standbys took the expired lease');
    await winner.release();
    const last = (await loser)!;
    assert.ok(last.held);
    await last.release();
  });

  test('a holder whose entry another wrote loses it at its next renewal', async () => {
    const a = await join('a');
    const held = (await Lease.acquire(a.options('identity.spa_x'), stop.signal))!;
    // (as a standby that saw the holder stall for a TTL would: a compare-and-set write on its revision)
    await a.kv.update('identity.spa_x', JSON.stringify({ holder: 'z', token: 'z#1', ttlMs: TTL, expiresAt: new Date().toISOString() }), held.revision);
    await until('the holder to notice', async () => (a.lost.length > 0 ? true : undefined), 5 * TTL, 20);
    assert.equal(a.lost, ['taken']);
    assert.not.ok(held.held);
    // its release leaves the other's entry alone
    await held.release();
    assert.is((await a.kv.get('identity.spa_x'))!.json<{ holder: string }>().holder, 'z');
  });

  test('a standby stops waiting when its signal aborts; bad names and renewals are refused', async () => {
    const a = await join('a');
    const held = (await Lease.acquire(a.options('worker.x'), stop.signal))!;
    const giveUp = new AbortController();
    const waiting = Lease.acquire(a.options('worker.x', { holder: 'a2' }), giveUp.signal);
    giveUp.abort();
    assert.is(await waiting, undefined);
    await held.release();
    assert.match(await failure(Lease.acquire(a.options('worker 0,7'), stop.signal)), /not a KV key/);
    assert.match(await failure(Lease.acquire(a.options('worker.y', { renewMs: TTL }), stop.signal)), /shorter than its TTL/);
  });
}

test.run();
