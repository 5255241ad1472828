/**
 * The JetStream log on a 3-node NATS cluster (R3 stream): a tail whose consumer lived on a node that is
 * killed with kill -9 goes on from where it was, every record once and in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LogRecord } from '../../../engine/log/append-log.ts';
import { openJetStreamLog, type JetStreamLog, type JetStreamLogConfig } from '../../../engine/log/jetstream-log.ts';
import { LogReadError } from '../../../engine/log/log-errors.ts';
import { startNatsCluster } from '../../../bench/cluster/nats-cluster.ts';
import { natsServerAvailable } from '../../support/nats-server.ts';
import { sleep, until } from '../../support/until.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-js-cluster-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const records = (from: number, count: number): LogRecord[] =>
  Array.from({ length: count }, (_, i) => ({ id: `r${from + i}`, key: 'spa.0', data: new Uint8Array([(from + i) % 256]) }));

/** opens the log, retrying while a fresh cluster's meta leader still refuses to place R3 assets. */
async function open(config: JetStreamLogConfig): Promise<JetStreamLog> {
  return until('the R3 stream', () => openJetStreamLog(config).catch(() => undefined), 30_000, 250);
}

if (natsServerAvailable('the JetStream cluster test')) {
  test('a tail goes on after kill -9 of the node holding its consumer: every record once, in order', async () => {
    const cluster = await startNatsCluster({ nodes: 3, dir: join(root, 'nats') });
    const nc = await connect({ servers: cluster.nodes.map((n) => n.url), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const config: JetStreamLogConfig = { servers: cluster.nodes.map((n) => n.url), stream: 'TAIL_KILL', subjectPrefix: 'tailkill', limits: { replicas: 3 }, timeoutMs: 2000 };
    const stop = new AbortController();
    let writer: JetStreamLog | undefined;
    let reader: JetStreamLog | undefined;
    let tailing: Promise<void> | undefined;
    try {
      await cluster.metaLeader();
      writer = await open(config);
      reader = await open(config);
      const tailer = reader;
      await writer.append(records(1, 100));

      // the engine's way with a tail: a LogReadError is retried from the last record taken
      const seen: number[] = [];
      let failures = 0;
      tailing = (async () => {
        while (!stop.signal.aborted) {
          try {
            for await (const batch of tailer.tail((seen.at(-1) ?? 0) + 1, { maxBatch: 50, signal: stop.signal })) seen.push(...batch.map((e) => e.seq));
          } catch (error) {
            if (!(error instanceof LogReadError)) throw error;
            failures++;
            await sleep(200);
          }
        }
      })();
      await until('the first records tailed', async () => (seen.length >= 100 ? true : undefined));

      // the tail's ordered consumer has one copy: the node that holds it dies
      const jsm = await jetstreamManager(nc);
      const holders: string[] = [];
      for await (const info of jsm.consumers.list(config.stream)) if (info.cluster?.leader !== undefined) holders.push(info.cluster.leader);
      assert.is(holders.length, 1, `one consumer (the tail's): ${holders.join(', ')}`);
      const victim = cluster.nodes.find((n) => n.name === holders[0]);
      assert.ok(victim !== undefined);
      await victim.kill();

      // (a publish is refused while the stream's leader moves, if it was there: retried as ingest's clients do)
      const more = writer;
      await until('the second records appended', () => more.append(records(101, 100)).then(() => true, () => undefined), 30_000, 250);
      await until('the records after the kill tailed', async () => (seen.length >= 200 ? true : undefined), 45_000).catch((error: unknown) => {
        throw new Error(`${String(error)}: ${seen.length} of 200 records, ${failures} failed tails`);
      });
      assert.equal(seen, Array.from({ length: 200 }, (_, i) => i + 1));
    } finally {
      stop.abort();
      await tailing;
      await Promise.all([writer?.close(), reader?.close(), nc.close()]);
      await cluster.stop();
    }
  });
}

test.run();
