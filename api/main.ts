/** What `npm start` runs: load the config, open the event log, serve the API, and shut down cleanly on SIGINT/SIGTERM. */
import {
  CHANGE_LOG,
  configHelp,
  DefinitionRegistry,
  DestinationStore,
  engineStorePath,
  ExplorerStore,
  ExportJobs,
  followChanges,
  identityLinkIndex,
  identityProfileLocator,
  loadConfig,
  openAppendLog,
  openEventLog,
  readDefinitionEntries,
  readOnlyStore,
  startDeliveryThread,
  startEngineThread,
  staticSpaceDirectory,
  storageGuard,
  StorageFullError,
  type DeliveryThread,
  type EngineThread,
  type PauseReason,
  type SeedEntry,
} from '../engine/index.ts';
import type { FlockConfig } from '../engine/config.ts';
import { identityRules, type IdentityRules } from '../engine/identity/rules.ts';
import type { StreamLimitsConfig } from '../engine/log/open-event-log.ts';
import { runIdentityRole, runWorkerRole } from '../engine/cluster/roles.ts';
import { join } from 'node:path';
import { createApp } from './app.ts';
import { runApiRole } from './api-role/run-api-role.ts';
import { jsonLogger } from './logger.ts';
import { startServer } from './serve.ts';
import { onShutdownSignal } from './signal-echo.ts';

const logger = jsonLogger();

// exit codes: 0 clean stop, 1 failure at start or a crash, 2 invalid configuration.
async function main(): Promise<void> {
  const loaded = loadConfig();
  if (!loaded.ok) {
    for (const issue of loaded.issues) logger.error('invalid configuration', { source: issue.source, problem: issue.message });
    process.exit(2);
  }
  if (loaded.help) {
    process.stdout.write(`${configHelp()}\n`);
    return;
  }
  const { config } = loaded;
  if (config.developmentSpace) {
    logger.warn('no FLOCK_SPACES_FILE: serving the development space "spa_default" with write key "dev_write_key"; do not expose this to a network', {
      space: 'spa_default',
      accessToken: 'dev_access_token',
      managementToken: 'dev_management_token',
    });
  }

  const stream = {
    // 0 means "no limit" in the config; the log wants such limits left out.
    ...(config.stream.maxAgeMs > 0 ? { maxAgeMs: config.stream.maxAgeMs } : {}),
    ...(config.stream.maxBytes > 0 ? { maxBytes: config.stream.maxBytes } : {}),
    duplicateWindowMs: config.stream.duplicateWindowMs,
    replicas: config.stream.replicas,
  };
  if (config.role === 'identity' || config.role === 'worker') return runRole(config, stream);
  if (config.role === 'api') return runApiRole(config, stream, logger);
  // the free-space reserve: an embedded log refuses appends below it (ingest answers 503 storage_full)
  const storage = { minFreeBytes: config.minFreeBytes };
  const checkSpace = storageGuard(config.dataDir, storage);
  const diskFull = (): boolean => {
    try {
      checkSpace();
      return false;
    } catch (error) {
      if (error instanceof StorageFullError) return true;
      throw error;
    }
  };
  const eventLog = await openEventLog({
    dataDir: config.dataDir,
    natsUrl: config.natsUrl,
    partitions: config.partitions,
    stream,
    timeoutMs: config.natsTimeoutMs,
    storage,
  });

  // Definitions of the file, unparsed: what the registry is seeded with.
  let seedEntries: SeedEntry[] = [];
  if (config.definitionsFile !== undefined) {
    const read = readDefinitionEntries(config.definitionsFile);
    if (!read.ok) {
      await eventLog.close();
      throw new Error(read.problems.map((p) => `${p.where}: ${p.message}`).join('\n'));
    }
    seedEntries = read.entries;
  }
  // The definition registry (the management API writes it, the engine computes it), seeded from the
  // definitions file before the engine starts.
  const registry = DefinitionRegistry.open(DefinitionRegistry.pathIn(config.dataDir));
  if (seedEntries.length > 0) {
    const seeded = await registry.seed(seedEntries);
    if (seeded.problems.length > 0) {
      // (what was valid is kept; the start stops so the file gets fixed)
      await registry.close();
      await eventLog.close();
      throw new Error(`${config.definitionsFile}: ${seeded.problems.join('\n')}`);
    }
    logger.info('definitions file seeded', { created: seeded.created.length, versioned: seeded.versioned.length, unchanged: seeded.unchanged.length });
  }

  // The engine runs in its own thread: at full event rate its loop is busy nearly all the time.
  let engine: EngineThread | undefined;
  // why the engine waits (its log unreachable, a full disk), as it last reported; null while it runs
  let enginePaused: PauseReason | null = null;
  // (role ingest: the tracking API and the log, no engine — identity stages and workers compute)
  if (config.engine && config.role === 'all') {
    try {
      engine = await startEngineThread(
        {
          dataDir: config.dataDir,
          natsUrl: config.natsUrl,
          partitions: config.partitions,
          stream,
          timeoutMs: config.natsTimeoutMs,
          registryPath: registry.path,
          identity: Object.fromEntries(config.spaces.flatMap((space) => (space.identity === undefined ? [] : [[space.id, space.identity]]))),
          tickMs: config.tickMs,
          clock: config.clock,
          checkpointMs: config.checkpointMs,
          historyRetentionMs: config.historyRetentionMs,
          minFreeBytes: config.minFreeBytes,
          checkpointWriter: config.checkpointWriter,
        },
        (m) => {
          if (m.type === 'ready') logger.info('engine ready', { definitions: m.definitions });
          if (m.type === 'invalid-record') logger.warn('skipped an invalid event record', { seq: m.seq, problem: m.message });
          if (m.type === 'overflow') {
            logger.warn('a sum overflowed the number range (beyond ±1.8e308): it has no value until its values leave the window', { space: m.space, definitions: m.definitions });
          }
          if (m.type === 'skipped-event') logger.warn('skipped an event that identifies nobody', { seq: m.seq, space: m.space, messageId: m.messageId, code: m.code, problem: m.message });
          if (m.type === 'paused') {
            enginePaused = m.reason;
            if (m.reason === null) logger.info('engine resumed');
            else if (m.reason === 'log_diverged') logger.error('engine paused: the event log does not hold what the checkpoint applied; an operator must act', { reason: m.reason, problem: m.message });
            else logger.warn('engine paused: retrying until it can go on', { reason: m.reason, problem: m.message });
          }
        },
      );
    } catch (error) {
      await registry.close();
      await eventLog.close();
      throw error;
    }
    engine.failure.catch((error: unknown) => {
      logger.error('engine failed', { error });
      process.exit(1);
    });
  }

  // Readiness: the engine has caught up with the log as it was when the engine started.
  const target = engine === undefined ? 0 : await eventLog.lastSeq();
  let caughtUp = engine === undefined;
  const checkCaughtUp = (): boolean => {
    if (caughtUp) return true;
    const position = engine?.stats()?.position;
    if (target === 0 || (position !== undefined && position >= target)) {
      caughtUp = true;
      logger.info('engine caught up', { position: position ?? 0, target });
    }
    return caughtUp;
  };
  const catchUpTimer = setInterval(() => checkCaughtUp() && clearInterval(catchUpTimer), 250);
  catchUpTimer.unref();

  // The explorer: recent changes and size over time, kept by following the change log.
  const changeLog = await openAppendLog({ dataDir: config.dataDir, natsUrl: config.natsUrl, log: CHANGE_LOG, stream, timeoutMs: config.natsTimeoutMs });
  const explorer = ExplorerStore.open(ExplorerStore.pathIn(config.dataDir));
  const follower = followChanges(changeLog, explorer, { onInvalidRecord: (seq, error) => logger.warn('skipped an invalid change-log record', { seq, problem: error.message }) });
  follower.done.catch((error: unknown) => logger.error('the change-log follower stopped', { error }));
  // The engine's state, read-only, for the management and Profile APIs.
  const store = readOnlyStore(engineStorePath(config.dataDir));
  // CSV exports: files under <dataDir>/exports, one snapshot of the engine's state each
  const exports = new ExportJobs({ store, registry, dir: join(config.dataDir, 'exports') });

  // Destinations: delivery runs in its own thread, started once a destination exists.
  const destinations = DestinationStore.open(DestinationStore.pathIn(config.dataDir));
  let delivery: Promise<DeliveryThread> | undefined;
  const startDelivery = () => {
    if (delivery !== undefined || destinations.destinations().length === 0 || config.role !== 'all') return;
    delivery = startDeliveryThread({ dataDir: config.dataDir, natsUrl: config.natsUrl, stream, timeoutMs: config.natsTimeoutMs, registryPath: registry.path }, (m) => {
      if (m.type === 'ready') logger.info('delivery started', { destinations: destinations.destinations().length });
      if (m.type === 'destination-error') logger.error('a destination failed (it restarts in 5 s)', { destination: m.destinationId, problem: m.message });
      if (m.type === 'invalid-record') logger.warn('delivery skipped an invalid change-log record', { seq: m.seq, problem: m.message });
    });
    delivery.then((thread) => thread.failure).catch((error: unknown) => {
      logger.error('delivery failed', { error });
      process.exit(1);
    });
  };
  startDelivery();
  const deliveryTimer = setInterval(startDelivery, 1000);
  deliveryTimer.unref();

  const app = createApp({
    eventLog,
    spaces: staticSpaceDirectory(config.spaces),
    rateLimit: config.rateLimit,
    logger,
    publicApiHost: config.publicApiHost,
    registry,
    store,
    explorer,
    locator: identityProfileLocator(store),
    profileLinks: identityLinkIndex(store),
    // the Profile API's events and explanations read the engine's event index and this log
    eventSource: eventLog,
    profileRateLimit: config.profileRateLimit,
    readiness: () => {
      const stats = engine?.stats();
      // the position and watermark of the last checkpoint: what the APIs answer up to
      const watermark = stats !== undefined && Number.isFinite(stats.watermark) ? new Date(stats.watermark).toISOString() : null;
      // (the ingest's own connection and the disk tell an outage or a full disk even while an idle
      // engine has nothing to write)
      const reason = eventLog.reachable?.() === false ? 'log_unreachable' : diskFull() ? 'disk_full' : enginePaused;
      if (engine === undefined) return reason === null ? { ready: true, details: { engine: 'off' } } : { ready: false, details: { engine: 'off', reason } };
      const details = { position: stats?.position ?? null, target, watermark };
      if (reason !== null) return { ready: false, details: { ...details, reason } };
      return { ready: checkCaughtUp(), details };
    },
    engineStats: () => engine?.stats(),
    eventLogLastSeq: () => eventLog.lastSeq(),
    logReachable: () => eventLog.reachable?.() ?? true,
    spaceIds: config.spaces.map((space) => space.id),
    exports,
    destinations,
    changeLogLastSeq: () => changeLog.lastSeq(),
  });
  const closeReaders = async () => {
    clearInterval(catchUpTimer);
    clearInterval(deliveryTimer);
    // delivery stops between attempts: its cursors stay at what receivers acknowledged
    await (await delivery)?.stop();
    await destinations.close();
    await follower.stop();
    await explorer.close();
    await changeLog.close();
    await exports.close();
    await store.close();
    await registry.close();
  };
  let server;
  try {
    server = await startServer(app, { host: config.host, port: config.port, limits: config.http });
  } catch (error) {
    await engine?.stop();
    await closeReaders();
    await eventLog.close();
    throw error;
  }
  logger.info('flock listening', {
    url: server.url,
    log: eventLog.kind,
    dataDir: config.dataDir,
    partitions: config.partitions,
    spaces: config.spaces.map((space) => space.id),
  });

  onShutdownSignal(logger, async (signal) => {
    logger.info('shutting down', { signal });
    // the server first, so every accepted request finishes its append before the log closes.
    await server.close(config.shutdownTimeoutMs);
    // then the engine: it finishes its batch and makes a last checkpoint.
    await engine?.stop();
    await closeReaders();
    await eventLog.close();
    logger.info('stopped');
    process.exit(0);
  });
}

/**
 * `--role identity` or `--role worker` (docs/scale.md): no HTTP server; the process runs its part of
 * the pipeline until SIGINT/SIGTERM, then stops it cleanly (a last checkpoint).
 */
async function runRole(config: FlockConfig, stream: StreamLimitsConfig): Promise<void> {
  const controller = new AbortController();
  onShutdownSignal(logger, async (signal) => {
    logger.info('shutting down', { signal, role: config.role });
    controller.abort();
  });
  const base = { dataDir: config.dataDir, natsUrl: config.natsUrl!, partitions: config.partitions, stream, timeoutMs: config.natsTimeoutMs, tickMs: config.tickMs };
  let last = 0;
  let lastState: unknown;
  const onStats = (stats: Record<string, unknown>) => {
    // (a line at each change of state — standby, restoring, active — and progress every 10 s)
    if (stats['state'] !== lastState) {
      lastState = stats['state'];
      logger.info('role state', { role: config.role, ...stats });
    }
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    logger.info('progress', { role: config.role, ...stats });
  };
  const onError = (error: unknown) => logger.warn('role error (riding it out)', { role: config.role, error });
  if (config.role === 'identity') {
    const rules = new Map<string, IdentityRules>();
    for (const space of config.spaces) {
      if (space.identity === undefined) continue;
      const checked = identityRules(space.identity);
      if (!checked.ok) throw new Error(`space ${space.id}: ${checked.issues.map((i) => `identity.${i.path}: ${i.message}`).join('; ')}`);
      rules.set(space.id, checked.rules);
    }
    logger.info('flock role ready', { role: 'identity', partitions: config.partitions, dataDir: config.dataDir });
    const stats = await runIdentityRole({ ...base, rules, clock: config.clock, onStats, onError }, controller.signal);
    logger.info('stopped', { role: 'identity', takeovers: stats.takeovers, snapshots: stats.snapshots, ...(stats.stage ?? {}) });
  } else {
    const registry = DefinitionRegistry.open(DefinitionRegistry.pathIn(config.dataDir));
    try {
      if (config.definitionsFile !== undefined) {
        const read = readDefinitionEntries(config.definitionsFile);
        if (!read.ok) throw new Error(read.problems.map((p) => `${p.where}: ${p.message}`).join('\n'));
        const seeded = await registry.seed(read.entries);
        if (seeded.problems.length > 0) throw new Error(`${config.definitionsFile}: ${seeded.problems.join('\n')}`);
      }
    } finally {
      await registry.close();
    }
    logger.info('flock role ready', { role: 'worker', partitions: config.workerPartitions, dataDir: config.dataDir });
    await runWorkerRole({ ...base, owned: config.workerPartitions, setSize: config.workerSetSize, warm: config.warmStandby, checkpointWriter: config.checkpointWriter, registryPath: DefinitionRegistry.pathIn(config.dataDir), checkpointMs: config.checkpointMs, retentionMs: config.stream.maxAgeMs, onStats, onError, onLeftOut: (definitions) => logger.warn('definitions workers do not compute (run them with --role all): left out', { codes: [...new Set(definitions.map((d) => d.code))], definitions }) }, controller.signal);
    logger.info('stopped', { role: 'worker' });
  }
  process.exit(0);
}

process.on('uncaughtException', (error) => {
  logger.error('uncaught exception', { error });
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  logger.error('unhandled rejection', { error: reason });
  process.exit(1);
});

main().catch((error: unknown) => {
  logger.error('flock failed to start', { error });
  process.exit(1);
});
