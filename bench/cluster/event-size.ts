/** `tsx bench/cluster/event-size.ts [events]`: the realistic workload's events as stored — mean record bytes in the log (msgpack with shared structures), as JSON, and per message in a JetStream file store (subject, Nats-Msg-Id, framing) — the input of docs/scale.md's network and disk sizing. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAppendLog, openEventLog, EVENT_LOG } from '../../engine/index.ts';
import { startNatsServer } from '../../test/support/nats-server.ts';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { generateEvents } from '../workload/generator.ts';
import { workload } from '../suite/config.ts';

const events = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'flock-event-size-'));
try {
  const nats = await startNatsServer();
  const log = await openEventLog({ dataDir: dir });
  const js = await openEventLog({ dataDir: dir, natsUrl: nats.url });
  let json = 0;
  let batch = [];
  for (const event of generateEvents(workload({ profiles: 25_000, accounts: 1_250, end: Date.UTC(2026, 10, 1) }, events))) {
    json += Buffer.byteLength(JSON.stringify(event));
    batch.push(event);
    if (batch.length === 1000) {
      await Promise.all([log.append(batch), js.append(batch)]);
      batch = [];
    }
  }
  if (batch.length > 0) await Promise.all([log.append(batch), js.append(batch)]);
  await log.close();
  await js.close();
  const nc = await connect({ servers: nats.url });
  const state = (await (await jetstreamManager(nc)).streams.info('FLOCK_EVENTS')).state;
  await nc.close();
  await nats.dispose();
  console.log(`JetStream FLOCK_EVENTS: ${state.messages} messages, ${state.bytes} bytes = ${(state.bytes / state.messages).toFixed(0)} B per message stored`);
  const raw = await openAppendLog({ dataDir: dir, log: EVENT_LOG });
  let bytes = 0;
  let count = 0;
  for (let from = 1; ; ) {
    const entries = await raw.read(from, 10_000);
    if (entries.length === 0) break;
    for (const e of entries) bytes += e.data.byteLength;
    count += entries.length;
    from = (entries[entries.length - 1]?.seq ?? from) + 1;
  }
  await raw.close();
  console.log(`${count} events of the realistic workload: ${(bytes / count).toFixed(0)} B per log record (msgpack), ${(json / events).toFixed(0)} B per event as JSON`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
