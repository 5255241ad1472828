/** What `npm start` runs: load the config, open the event log, serve the API, and shut down cleanly on SIGINT/SIGTERM. */
import { configHelp, loadConfig, openEventLog, startEngineThread, staticSpaceDirectory, type EngineThread } from '../engine/index.ts';
import { createApp } from './app.ts';
import { jsonLogger } from './logger.ts';
import { startServer } from './serve.ts';

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
    });
  }

  const stream = {
    // 0 means "no limit" in the config; the log wants such limits left out.
    ...(config.stream.maxAgeMs > 0 ? { maxAgeMs: config.stream.maxAgeMs } : {}),
    ...(config.stream.maxBytes > 0 ? { maxBytes: config.stream.maxBytes } : {}),
    duplicateWindowMs: config.stream.duplicateWindowMs,
  };
  const eventLog = await openEventLog({
    dataDir: config.dataDir,
    natsUrl: config.natsUrl,
    partitions: config.partitions,
    stream,
    timeoutMs: config.natsTimeoutMs,
  });

  // The engine runs in its own thread: at full event rate its loop is busy nearly all the time.
  let engine: EngineThread | undefined;
  if (config.engine) {
    try {
      engine = await startEngineThread(
        {
          dataDir: config.dataDir,
          natsUrl: config.natsUrl,
          partitions: config.partitions,
          stream,
          timeoutMs: config.natsTimeoutMs,
          definitionsFile: config.definitionsFile,
          tickMs: config.tickMs,
          checkpointMs: config.checkpointMs,
        },
        (m) => {
          if (m.type === 'definition-failed') logger.error('definition failed', { space: m.space, id: m.id, code: m.code, problem: m.message });
          if (m.type === 'ready') logger.info('engine ready', { definitions: m.definitions });
          if (m.type === 'invalid-record') logger.warn('skipped an invalid event record', { seq: m.seq, problem: m.message });
        },
      );
    } catch (error) {
      await eventLog.close();
      throw error;
    }
    engine.failure.catch((error: unknown) => {
      logger.error('engine failed', { error });
      process.exit(1);
    });
  }

  const app = createApp({
    eventLog,
    spaces: staticSpaceDirectory(config.spaces),
    rateLimit: config.rateLimit,
    logger,
    publicApiHost: config.publicApiHost,
  });
  let server;
  try {
    server = await startServer(app, { host: config.host, port: config.port });
  } catch (error) {
    await engine?.stop();
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

  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      logger.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal });
    // the server first, so every accepted request finishes its append before the log closes.
    await server.close(config.shutdownTimeoutMs);
    // then the engine: it finishes its batch and makes a last checkpoint.
    await engine?.stop();
    await eventLog.close();
    logger.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stop(signal).catch((error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      });
    });
  }
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
