/** An engine whose background work is a lifecycle over the registry (backfills, switches, previews, BATCH runs), wired both ways. */
import { Engine, type EngineOptions } from '../engine.ts';
import { Lifecycle, type LifecycleOptions } from './lifecycle.ts';

export async function openEngineWithLifecycle(
  engineOptions: Omit<EngineOptions, 'background'>,
  lifecycleOptions: Omit<LifecycleOptions, 'engine' | 'eventLog' | 'resolver' | 'probe'>,
): Promise<{ engine: Engine; lifecycle: Lifecycle }> {
  let lifecycle!: Lifecycle;
  // (the probe's `backfill` point: after a step that left a backfill unfinished)
  const step = async (): Promise<void> => {
    await lifecycle.step();
    if (lifecycle.backfills > 0) engineOptions.probe?.('backfill', engine.position);
  };
  const engine: Engine = await Engine.open({ ...engineOptions, background: { step, pending: () => lifecycle.pending() } });
  const probe = engineOptions.probe;
  lifecycle = new Lifecycle({ ...lifecycleOptions, engine, eventLog: engineOptions.eventLog, resolver: engineOptions.resolver, ...(probe === undefined ? {} : { probe }) });
  return { engine, lifecycle };
}
