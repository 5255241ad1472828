/** The engine's worker thread: runs the Engine over the event log so a busy engine never blocks the HTTP API. */
import { openEngineWithLifecycle } from '../lifecycle/open-engine.ts';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { DefinitionRegistry } from '../definitions/registry.ts';
import { IdentityGraph } from '../identity/identity-graph.ts';
import { identityRules, type IdentityRules } from '../identity/rules.ts';
import type { EncodedEventLog } from '../log/encoded-event-log.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../log/open-event-log.ts';
import { CheckpointStore } from '../store/checkpoint-store.ts';
import { CheckpointWriter } from '../store/checkpoint-writer.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../plan/compile.ts';
import type { EngineThreadConfig, EngineThreadMessage } from './engine-thread.ts';
import { faultProbe, parseFault } from './fault.ts';

const port = parentPort!;
const config = (workerData as { config: EngineThreadConfig }).config;
const send = (m: EngineThreadMessage) => port.postMessage(m);

async function main(): Promise<void> {
  // (test-only: FLOCK_FAULT kills this process at a chosen probe point; parsed first so a typo stops the start)
  const probe = faultProbe(parseFault(process.env['FLOCK_FAULT']));
  const stream = config.stream;
  const storage = { minFreeBytes: config.minFreeBytes ?? 0 };
  const eventLog = await openEventLog({ dataDir: config.dataDir, natsUrl: config.natsUrl, partitions: config.partitions, stream, timeoutMs: config.timeoutMs, storage });
  (eventLog as EncodedEventLog).onInvalidRecord((seq, error) => send({ type: 'invalid-record', seq, message: error.message }));
  const changeLog = await openAppendLog({ dataDir: config.dataDir, natsUrl: config.natsUrl, log: CHANGE_LOG, stream, timeoutMs: config.timeoutMs, storage });
  const store = CheckpointStore.open(join(config.dataDir, 'engine'), { storage });
  // With --checkpoint-writer thread, checkpoints are committed by a writer thread of their own.
  const writer = config.checkpointWriter !== 'thread' ? undefined : await CheckpointWriter.start({ path: join(config.dataDir, 'engine'), minFreeBytes: storage.minFreeBytes });
  try {
    await serve(eventLog, changeLog, store, writer, probe);
  } finally {
    await writer?.close();
  }
}

async function serve(
  eventLog: Awaited<ReturnType<typeof openEventLog>>,
  changeLog: Awaited<ReturnType<typeof openAppendLog>>,
  store: CheckpointStore,
  writer: CheckpointWriter | undefined,
  probe: ReturnType<typeof faultProbe>,
): Promise<void> {
  const stream = config.stream;
  // The definitions the management API (and the definitions file) wrote: the lifecycle computes them.
  const registry = DefinitionRegistry.open(config.registryPath);
  // Identity resolution with each space's rules (Segment's defaults unless configured), reading the
  // graph lazily from the checkpoint.
  const rules = new Map<string, IdentityRules>();
  for (const [space, configured] of Object.entries(config.identity ?? {})) {
    const checked = identityRules(configured);
    if (!checked.ok) throw new Error(`space ${space}: ${checked.issues.map((i) => `identity.${i.path}: ${i.message}`).join('; ')}`);
    rules.set(space, checked.rules);
  }
  const resolver = new IdentityGraph({ source: store, rules });
  // the stats (metrics, readiness) show a pause at once, not within a second (a no-op until the engine is open)
  let reportNow = () => {};
  const { engine, lifecycle } = await openEngineWithLifecycle(
    {
      eventLog,
      changeLog,
      store,
      ...(writer === undefined ? {} : { writer }),
      plans: new Map(),
      resolver,
      onOverflow: (space, definitions) => send({ type: 'overflow', space, definitions }),
      tickMs: config.tickMs,
      time: config.clock ?? 'wall',
      ...(probe === undefined ? {} : { probe }),
      checkpointMs: config.checkpointMs,
      partitions: config.partitions,
      historyRetention: { historyMs: config.historyRetentionMs ?? 0, eventsMs: stream?.maxAgeMs ?? 0 },
      onSkipped: (s) => send({ type: 'skipped-event', seq: s.seq, space: s.space, messageId: s.messageId, code: s.reason.code, message: s.reason.message }),
      onPause: (reason, error) => {
        send(reason === null ? { type: 'paused', reason } : { type: 'paused', reason, message: describe(error) });
        reportNow();
      },
    },
    // late events of any lateness inside the log's retention count exactly (operators/README.md)
    { registry, clock: Date.now, compile: { ...DEFAULT_COMPILE_OPTIONS, retentionMs: stream?.maxAgeMs ?? 0 } },
  );
  await lifecycle.reconcile();
  const unwatch = registry.watch(() => lifecycle.requestReconcile(), { pollMs: 500 });
  const controller = new AbortController();
  port.on('message', (m: { type: string }) => {
    if (m.type === 'stop') controller.abort();
  });
  const stats = () => ({ ...engine.stats, retries: { ...engine.stats.retries }, backfills: lifecycle.backfills });
  reportNow = () => send({ type: 'stats', stats: stats() });
  const report = setInterval(reportNow, 1000);
  send({ type: 'ready', definitions: [...registry.computeSet().values()].reduce((n, defs) => n + defs.length, 0) });
  try {
    await engine.run(controller.signal);
  } finally {
    clearInterval(report);
    unwatch();
    await registry.close();
    await writer?.close();
    await store.close();
    await changeLog.close();
    await eventLog.close();
  }
  send({ type: 'stopped', stats: stats() });
}

/** An error and its causes on one line: the log line says what failed and why. */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
  }
  return parts.join(': ');
}

main().catch((error: unknown) => {
  send({ type: 'error', message: (error as Error).message, stack: (error as Error).stack ?? '' });
  process.exitCode = 1;
});
