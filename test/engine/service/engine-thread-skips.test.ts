/** The engine thread reports each event it skips with the reason (the service logs it), e.g. JSON published straight to the log. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefinitionRegistry } from '../../../engine/definitions/registry.ts';
import type { EncodedEventLog } from '../../../engine/log/encoded-event-log.ts';
import { openEventLog } from '../../../engine/log/open-event-log.ts';
import { startEngineThread, type EngineThreadMessage } from '../../../engine/service/engine-thread.ts';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

test('a JSON event that identifies nobody is skipped and reported with its code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-skips-'));
  const log = (await openEventLog({ dataDir: dir, partitions: 1 })) as EncodedEventLog;
  await log.appendLog.append([
    { id: 'spa_x/j1', key: 'spa_x.0', data: json({ type: 'track', event: 'B', messageId: 'j1', userId: 'u1', timestamp: 1000 }) },
    { id: 'spa_x/j2', key: 'spa_x.0', data: json({ type: 'track', event: 'B', messageId: 'j2', userId: 'null', timestamp: 2000 }) },
  ]);
  await log.close();
  const messages: EngineThreadMessage[] = [];
  let reported: () => void = () => undefined;
  const skipped = new Promise<void>((resolve) => (reported = resolve));
  const thread = await startEngineThread({ dataDir: dir, partitions: 1, registryPath: DefinitionRegistry.pathIn(dir), tickMs: 50, checkpointMs: 10 }, (m) => {
    messages.push(m);
    if (m.type === 'skipped-event') reported();
  });
  try {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([skipped, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no skipped-event within 20 s')), 20_000)))]);
    clearTimeout(timer);
    const skips = messages.filter((m) => m.type === 'skipped-event');
    assert.equal(
      skips.map((m) => [m.seq, m.space, m.messageId, m.code]),
      [[2, 'spa_x', 'j2', 'blocked_identifier']],
    );
  } finally {
    await thread.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
