/**
 * One worker of `npm run bench:cluster`, as a process of its own: opens the resolved log, computes
 * the partitions it is given until its position reaches `--until`, then prints one JSON line with
 * its wall time, CPU time and what it applied. (The service's `--role worker` is the same Engine.)
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../../engine/engine.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import { openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { IdentityGraph } from '../../engine/identity/identity-graph.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { RESOLVED_LOG } from '../../engine/cluster/resolved-records.ts';
import { ResolvedSource } from '../../engine/cluster/resolved-source.ts';
import { clusterDefinitions } from './workers-workload.ts';

const { values } = parseArgs({ options: { nats: { type: 'string' }, dir: { type: 'string' }, owned: { type: 'string' }, partitions: { type: 'string' }, until: { type: 'string' }, changes: { type: 'string' }, single: { type: 'boolean', default: false }, accounts: { type: 'boolean', default: false } } });
const partitions = Number(values.partitions);
const until = Number(values.until);
const owned = new Set(values.owned!.split(',').map(Number));
const { plan } = compilePlan(clusterDefinitions(values.accounts));
const resolvedLog = await openAppendLog({ dataDir: values.dir!, natsUrl: values.nats!, log: RESOLVED_LOG });
const changeLog = await openAppendLog({ dataDir: values.dir!, natsUrl: values.nats!, log: { name: 'changes', stream: values.changes!, subjectPrefix: `flock.${values.changes!.toLowerCase()}` } });
const store = CheckpointStore.open(join(values.dir!, 'worker'));
// --single: one process over the raw log (identity inline), the baseline the workers are compared with
const eventLog = values.single ? await openEventLog({ dataDir: values.dir!, natsUrl: values.nats! }) : undefined;
const engine = await Engine.open(
  eventLog !== undefined
    ? { eventLog, changeLog, store, plans: new Map([['spa_bench', plan]]), resolver: new IdentityGraph({ source: store }), time: 'event', partitions, tickMs: 50 }
    : { eventLog: new ResolvedSource(resolvedLog, owned, partitions), transfers: resolvedLog, changeLog, store, plans: new Map([['spa_bench', plan]]), resolver: new DirectResolver(), time: 'event', partitions, tickMs: 50 },
);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const stop = new AbortController();
const running = engine.run(stop.signal);
while (engine.position < until) await new Promise((r) => setTimeout(r, 20));
stop.abort();
await running;
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, events: engine.stats.eventsIn, changes: engine.stats.changesOut, merges: engine.stats.merges, profiles: engine.runtime.size })}\n`);
await store.close();
await changeLog.close();
await resolvedLog.close();
await eventLog?.close();
