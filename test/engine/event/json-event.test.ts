/** Events published as JSON straight to the event subjects: decoded beside codec records; bad ones skipped and reported. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJsonEvent, isJsonRecord } from '../../../engine/event/json-event.ts';
import { CorruptRecordError } from '../../../engine/log/log-errors.ts';
import { EncodedEventLog } from '../../../engine/log/encoded-event-log.ts';
import { openEventLog } from '../../../engine/log/open-event-log.ts';
import { track } from '../../support/events.ts';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

test('a minimal JSON event decodes with defaults; space comes from the subject', () => {
  const e = decodeJsonEvent(json({ type: 'track', event: 'Signed Up', messageId: 'm1', userId: 'u1', timestamp: 1000 }), 'spa_x.3');
  assert.is(e.space, 'spa_x');
  assert.is(e.receivedAt, 1000);
  assert.is(e.properties, null);
  assert.is(e.anonymousId, null);
});

test('bad JSON events are CorruptRecordErrors with a reason', () => {
  const bad = (v: unknown, why: RegExp) =>
    assert.throws(() => decodeJsonEvent(typeof v === 'string' ? Buffer.from(v) : json(v), 'spa_x.0'), (e: unknown) => e instanceof CorruptRecordError && why.test((e as Error).message));
  bad('{"type":', /not JSON/);
  bad({ type: 'track', messageId: 'm', userId: 'u', timestamp: 1 }, /needs `event`/);
  bad({ type: 'identify', messageId: 'm', timestamp: 1 }, /userId or anonymousId/);
  bad({ type: 'nope', messageId: 'm', userId: 'u', timestamp: 1 }, /type/);
  bad({ type: 'identify', messageId: 'm', userId: 'u', timestamp: 'yesterday' }, /timestamp/);
  bad({ space: 'spa_other', type: 'identify', messageId: 'm', userId: 'u', timestamp: 1 }, /space spa_other/);
  assert.not.ok(isJsonRecord(new Uint8Array([1, 0, 0, 0])));
});

test('the event log reads JSON records beside codec records and skips invalid ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-json-'));
  const log = (await openEventLog({ dataDir: dir })) as EncodedEventLog;
  try {
    await log.append([track('u1', 'A', 1000)]);
    await log.appendLog.append([
      { id: 'spa_test/j1', key: 'spa_test.0', data: json({ type: 'track', event: 'B', messageId: 'j1', userId: 'u2', timestamp: 2000 }) },
      { id: 'spa_test/j2', key: 'spa_test.0', data: json({ type: 'track', messageId: 'j2', userId: 'u2', timestamp: 3000 }) },
    ]);
    const skipped: number[] = [];
    log.onInvalidRecord((seq) => skipped.push(seq));
    const events = await log.read(1, 10);
    assert.equal(events.map((e) => [e.seq, e.event.event]), [[1, 'A'], [2, 'B']]);
    assert.equal(skipped, [3]);
    assert.is(log.invalidRecords, 1);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
