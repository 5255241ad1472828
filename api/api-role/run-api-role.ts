/**
 * `flock start --role api` (docs/scale.md §9): an HTTP process of the distributed mode with no engine
 * and no state of its own. It serves the tracking API (events into `FLOCK_EVENTS`, as an ingest front)
 * and the Profile API, whose reads it asks of their owners over NATS — the identity stage's owner who
 * is who, the worker of a profile's partition its profile (engine/cluster/remote-profiles.ts); and the
 * management API's definition routes over the shared definitions home (`flock_definitions`, seeded
 * with `--definitions-file` when given: cluster-management.ts); what it cannot serve answers 501
 * (not-in-api-role.ts). Any number of them can run side by side.
 *
 * Ready while its NATS connection and its event log's are up; SIGINT/SIGTERM stops it as `npm start`
 * stops: the server finishes open requests, then the connections close.
 */
import { connect } from '@nats-io/transport-node';
import { join } from 'node:path';
import { DefinitionsReplica, openDefinitionsBucket, openEventLog, readDefinitionEntries, remoteProfiles, remoteSizes, staticSpaceDirectory } from '../../engine/index.ts';
import type { FlockConfig } from '../../engine/config.ts';
import type { StreamLimitsConfig } from '../../engine/log/open-event-log.ts';
import { createApp } from '../app.ts';
import type { Logger } from '../logger.ts';
import { startServer } from '../serve.ts';
import { onShutdownSignal } from '../signal-echo.ts';

export async function runApiRole(config: FlockConfig, stream: StreamLimitsConfig, logger: Logger): Promise<void> {
  const natsUrl = config.natsUrl!;
  const eventLog = await openEventLog({ dataDir: config.dataDir, natsUrl, partitions: config.partitions, stream, timeoutMs: config.natsTimeoutMs });
  const nc = await connect({
    servers: natsUrl.split(',').map((url) => url.trim()).filter((url) => url !== ''),
    name: 'flock api',
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  }).catch(async (error: unknown) => {
    await eventLog.close();
    throw error;
  });
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') connected = false;
      else if (status.type === 'reconnect') connected = true;
    }
  })();
  // the shared definitions home: its replica answers the management API's definition routes; writes go through it
  let definitions: DefinitionsReplica;
  try {
    const kv = await openDefinitionsBucket(nc, { ...(stream.replicas === undefined ? {} : { replicas: stream.replicas }), timeoutMs: config.natsTimeoutMs });
    definitions = await DefinitionsReplica.open({ kv, path: join(config.dataDir, 'api', 'definitions') });
    if (config.definitionsFile !== undefined) {
      const read = readDefinitionEntries(config.definitionsFile);
      if (!read.ok) throw new Error(read.problems.map((p) => `${p.where}: ${p.message}`).join('\n'));
      const seeded = await definitions.seed(read.entries);
      if (seeded.problems.length > 0) throw new Error(`${config.definitionsFile}: ${seeded.problems.join('\n')}`);
    }
  } catch (error) {
    await nc.close();
    await eventLog.close();
    throw error;
  }

  const app = createApp({
    eventLog,
    spaces: staticSpaceDirectory(config.spaces),
    rateLimit: config.rateLimit,
    logger,
    publicApiHost: config.publicApiHost,
    profileRateLimit: config.profileRateLimit,
    // (an owner that does not answer within the NATS timeout is unavailable: 503, retry)
    cluster: remoteProfiles(nc, { partitions: config.partitions, timeoutMs: config.natsTimeoutMs }),
    clusterDefinitions: definitions,
    clusterSizes: remoteSizes(nc, { partitions: config.partitions, timeoutMs: config.natsTimeoutMs }),
    readiness: () => {
      const reason = !connected || eventLog.reachable?.() === false ? 'log_unreachable' : null;
      return reason === null ? { ready: true, details: { role: 'api' } } : { ready: false, details: { role: 'api', reason } };
    },
    eventLogLastSeq: () => eventLog.lastSeq(),
    logReachable: () => connected && (eventLog.reachable?.() ?? true),
    spaceIds: config.spaces.map((space) => space.id),
  });
  let server;
  try {
    server = await startServer(app, { host: config.host, port: config.port, limits: config.http });
  } catch (error) {
    await definitions.close();
    await nc.close();
    await eventLog.close();
    throw error;
  }
  logger.info('flock listening', { url: server.url, role: 'api', log: eventLog.kind, partitions: config.partitions, spaces: config.spaces.map((space) => space.id) });

  onShutdownSignal(logger, async (signal) => {
    logger.info('shutting down', { signal, role: 'api' });
    await server.close(config.shutdownTimeoutMs);
    await definitions.close();
    await nc.close();
    await eventLog.close();
    logger.info('stopped', { role: 'api' });
    process.exit(0);
  });
}
