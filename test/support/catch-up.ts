/** Test support: an engine applies the whole event log (batches read directly, no run loop), then ticks to its clock and checkpoints. */
import type { Engine } from '../../engine/engine.ts';
import type { EventLog } from '../../engine/log/event-log.ts';

export async function catchUp(engine: Engine, eventLog: EventLog, batchSize = 500): Promise<void> {
  for (;;) {
    const batch = await eventLog.read(engine.position + 1, batchSize);
    if (batch.length === 0) break;
    engine.process(batch);
  }
  engine.tick();
  await engine.checkpoint();
}
