/** The engine's worker thread: runs the Engine over the event log so a busy engine never blocks the HTTP API. */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadDefinitionsFile } from '../definitions/definitions-file.ts';
import { Engine } from '../engine.ts';
import { IdentityGraph } from '../identity/identity-graph.ts';
import type { EncodedEventLog } from '../log/encoded-event-log.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../log/open-event-log.ts';
import { compilePlan } from '../plan/compile.ts';
import type { Plan } from '../plan/plan.ts';
import { CheckpointStore } from '../store/checkpoint-store.ts';
import type { EngineThreadConfig, EngineThreadMessage } from './engine-thread.ts';

const port = parentPort!;
const config = (workerData as { config: EngineThreadConfig }).config;
const send = (m: EngineThreadMessage) => port.postMessage(m);

async function main(): Promise<void> {
  const plans = new Map<string, Plan>();
  if (config.definitionsFile !== undefined) {
    const loaded = loadDefinitionsFile(config.definitionsFile);
    if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.where}: ${p.message}`).join('\n'));
    for (const [space, defs] of loaded.bySpace) {
      const { plan, failures } = compilePlan(defs);
      for (const [id, error] of failures) send({ type: 'definition-failed', space, id, code: error.code, message: error.message });
      plans.set(space, plan);
    }
  }
  const stream = config.stream;
  const eventLog = await openEventLog({ dataDir: config.dataDir, natsUrl: config.natsUrl, partitions: config.partitions, stream, timeoutMs: config.timeoutMs });
  (eventLog as EncodedEventLog).onInvalidRecord((seq, error) => send({ type: 'invalid-record', seq, message: error.message }));
  const changeLog = await openAppendLog({ dataDir: config.dataDir, natsUrl: config.natsUrl, log: CHANGE_LOG, stream, timeoutMs: config.timeoutMs });
  const store = CheckpointStore.open(join(config.dataDir, 'engine'));
  const engine = await Engine.open({
    eventLog,
    changeLog,
    store,
    plans,
    // Identity resolution with Segment's default rules, reading the graph lazily from the checkpoint.
    resolver: new IdentityGraph({ source: store }),
    tickMs: config.tickMs,
    checkpointMs: config.checkpointMs,
    partitions: config.partitions,
  });
  const controller = new AbortController();
  port.on('message', (m: { type: string }) => {
    if (m.type === 'stop') controller.abort();
  });
  const report = setInterval(() => send({ type: 'stats', stats: { ...engine.stats } }), 1000);
  send({ type: 'ready', definitions: [...plans.values()].reduce((n, p) => n + p.definitions.length, 0) });
  try {
    await engine.run(controller.signal);
  } finally {
    clearInterval(report);
    await store.close();
    await changeLog.close();
    await eventLog.close();
  }
  send({ type: 'stopped', stats: { ...engine.stats } });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: (error as Error).message, stack: (error as Error).stack ?? '' });
  process.exitCode = 1;
});
