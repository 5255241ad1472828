/** An engine whose background work is a lifecycle over the registry (backfills, switches, previews, BATCH runs), wired both ways. */
import { Engine, type EngineOptions } from '../engine.ts';
import { Lifecycle, type LifecycleOptions } from './lifecycle.ts';

export async function openEngineWithLifecycle(
  engineOptions: Omit<EngineOptions, 'background'>,
  lifecycleOptions: Omit<LifecycleOptions, 'engine' | 'eventLog' | 'resolver'>,
): Promise<{ engine: Engine; lifecycle: Lifecycle }> {
  let lifecycle!: Lifecycle;
  const engine = await Engine.open({ ...engineOptions, background: { step: () => lifecycle.step(), pending: () => lifecycle.pending() } });
  lifecycle = new Lifecycle({ ...lifecycleOptions, engine, eventLog: engineOptions.eventLog, resolver: engineOptions.resolver });
  return { engine, lifecycle };
}
