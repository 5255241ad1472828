/** A separate process for durability tests: appends to an embedded log until killed, or writes events with new shapes and exits. */
import { openEmbeddedLog } from '../../engine/log/embedded-log.ts';
import { openEventLog } from '../../engine/log/open-event-log.ts';
import { sampleEvent } from './sample-events.ts';

const [mode, path, arg] = process.argv.slice(2);

if (mode === 'crash-loop' && path !== undefined) {
  // appends batches forever; every record of batch n carries n, so a reader can check batches are whole
  const size = Number(arg ?? 200);
  const log = await openEmbeddedLog({ path });
  for (let n = 0; ; n++) {
    const records = Array.from({ length: size }, (_, i) => ({
      id: `b${n}-${i}`,
      key: 'crash.0',
      data: Buffer.from(JSON.stringify({ batch: n, i, pad: 'x'.repeat(200) })),
    }));
    await log.append(records);
    if (n === 0) process.stdout.write('ready\n');
  }
} else if (mode === 'new-shapes' && path !== undefined) {
  // a second writer process with its own codec adds structures the parent has never seen
  const log = await openEventLog({ dataDir: path });
  const events = Array.from({ length: 20 }, (_, i) => ({
    ...sampleEvent(10_000 + i, { prefix: 'child' }),
    properties: { [`child_shape_${i % 4}`]: i, nested: { [`deep_${i % 2}`]: true } },
  }));
  const result = await log.append(events);
  await log.close();
  process.stdout.write(JSON.stringify(result.seqs) + '\n');
} else {
  process.stderr.write(`usage: append-child.ts crash-loop|new-shapes <path> [arg]\n`);
  process.exit(2);
}
