/**
 * A Flock app with the management and Profile APIs over a temp registry, explorer store and engine
 * state: two spaces with every kind of secret, the engine run over given events (so profile state is
 * what the engine really writes), and request helpers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { createApp, type AppDeps } from '../../api/app.ts';
import { DefinitionRegistry } from '../../engine/definitions/registry.ts';
import { Engine } from '../../engine/engine.ts';
import { eventWith, type FlockEvent } from '../../engine/event/model.ts';
import { ExplorerStore } from '../../engine/explorer/explorer-store.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import { IdentityGraph } from '../../engine/identity/identity-graph.ts';
import { identityLinkIndex, identityProfileLocator } from '../../engine/profiles/identity-locator.ts';
import { CHANGE_LOG, openAppendLog } from '../../engine/log/open-event-log.ts';
import type { AppendLog } from '../../engine/log/append-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import type { Plan } from '../../engine/plan/plan.ts';
import { engineStorePath, type StoreHandle } from '../../engine/profiles/store-handle.ts';
import { staticSpaceDirectory } from '../../engine/space/space-directory.ts';
import type { SpaceWithKeys } from '../../engine/space/space.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { DestinationStore } from '../../engine/destinations/destination-store.ts';
import { decodeChangeRecord } from '../../engine/engine.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { memoryEventLog } from './memory-event-log.ts';

export const SECRETS = {
  a: { write: 'wk_space_a', access: 'acc_space_a_0001', management: 'mgt_space_a_0001' },
  b: { write: 'wk_space_b', access: 'acc_space_b_0001', management: 'mgt_space_b_0001' },
} as const;

export const SERVICE_SPACES: SpaceWithKeys[] = [
  { id: 'spa_a', name: 'A', writeKeys: [{ key: SECRETS.a.write, sourceId: 'src_a' }], accessTokens: [SECRETS.a.access], managementTokens: [SECRETS.a.management] },
  { id: 'spa_b', name: 'B', writeKeys: [{ key: SECRETS.b.write, sourceId: 'src_b' }], accessTokens: [SECRETS.b.access], managementTokens: [SECRETS.b.management] },
];

/** 2025-03-01T12:00:00Z: the engine's and the app's clock. */
export const NOW = Date.UTC(2025, 2, 1, 12, 0, 0);

export const basic = (token: string) => `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
export const bearer = (token: string) => `Bearer ${token}`;

let messages = 0;
/** A normalised event of space `spa_a` (override anything). */
export function event(fields: Partial<FlockEvent> & Pick<FlockEvent, 'type'>): FlockEvent {
  // received when it happened unless told: old events are then replayed in event time
  return eventWith({ space: 'spa_a', messageId: `m-${++messages}`, sourceId: 'src_a', ...fields, timestamp: fields.timestamp ?? NOW - 60_000 });
}

export interface ServiceApp {
  readonly app: Hono;
  readonly dir: string;
  readonly registry: DefinitionRegistry;
  readonly explorer: ExplorerStore;
  readonly clock: { now: number };
  /** the engine's state; undefined until `runEngine`. */
  store(): CheckpointStore | undefined;
  /** the destination store the app serves (with `withDestinations: true`). */
  readonly destinations: DestinationStore | undefined;
  /**
   * Runs the engine over `events` with the registry's current definitions (one version each, as
   * `planInputs()` gives them), checkpoints into the store, and applies its changes to the explorer.
   */
  runEngine(events: readonly FlockEvent[]): Promise<Change[]>;
  /** a management API request with space A's token unless told otherwise. */
  manage(method: string, path: string, body?: unknown, auth?: string | false): Promise<Response>;
  /** a Profile API GET with space A's access token unless told otherwise. */
  profile(path: string, auth?: string | false): Promise<Response>;
  close(): Promise<void>;
}

/**
 * `identity: true` runs the engine with identity resolution (use_ ids) and serves profiles through
 * the identity graph, as `npm start` does; the default keys profiles by user_id / anonymous_id.
 */
export function serviceApp(overrides: Partial<AppDeps> & { readonly identity?: boolean; readonly withDestinations?: boolean } = {}): ServiceApp {
  const { identity = false, withDestinations = false, ...deps } = overrides;
  const dir = mkdtempSync(join(tmpdir(), 'flock-service-'));
  const destinations = withDestinations ? DestinationStore.open(join(dir, 'destinations')) : undefined;
  const clock = { now: NOW };
  const registry = DefinitionRegistry.open(join(dir, 'registry'), { clock: () => clock.now });
  const explorer = ExplorerStore.open(join(dir, 'explorer'));
  let store: CheckpointStore | undefined;
  let changeLog: AppendLog | undefined;
  // the engine's event log: it grows with each runEngine (explanations and `events` read it)
  const log = memoryEventLog();
  const handle: StoreHandle = { get: () => store, close: async () => {} };
  const app = createApp({
    eventLog: memoryEventLog(),
    spaces: staticSpaceDirectory(SERVICE_SPACES),
    clock: () => clock.now,
    registry,
    store: handle,
    explorer,
    spaceIds: SERVICE_SPACES.map((s) => s.id),
    eventSource: log,
    ...(destinations === undefined ? {} : { destinations }),
    ...(identity ? { locator: identityProfileLocator(handle), profileLinks: identityLinkIndex(handle) } : {}),
    ...deps,
  });
  const request = (method: string, path: string, auth: string | false, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (auth !== false) headers['authorization'] = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return Promise.resolve(app.request(path, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) }));
  };
  return {
    app,
    dir,
    registry,
    explorer,
    clock,
    store: () => store,
    destinations,
    async runEngine(events) {
      store ??= CheckpointStore.open(engineStorePath(dir));
      changeLog ??= await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
      const from = await log.lastSeq();
      await log.append(events);
      const plans = new Map<string, Plan>();
      for (const [space, inputs] of registry.planInputs()) plans.set(space, compilePlan(inputs).plan);
      const before = await changeLog.lastSeq();
      const engine = await Engine.open({ eventLog: log, changeLog, store, plans, resolver: identity ? new IdentityGraph({ source: store }) : new DirectResolver(), clock: () => clock.now, checkpointEvents: 1e9 });
      engine.process(await log.read(from + 1, events.length));
      engine.tick();
      await engine.checkpoint();
      const entries = await changeLog.read(before + 1, 1e6);
      const changes = entries.flatMap((e) => decodeChangeRecord(e.data));
      await explorer.apply(changes, entries.at(-1)?.seq ?? explorer.position());
      return changes;
    },
    manage: (method, path, body, auth = bearer(SECRETS.a.management)) => request(method, path, auth, body),
    profile: (path, auth = basic(SECRETS.a.access)) => request('GET', path, auth),
    async close() {
      await store?.close();
      await changeLog?.close();
      await destinations?.close();
      await explorer.close();
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
