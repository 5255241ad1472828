/** `npm run changes`: prints the change log (audience enters/exits, trait changes) as JSON lines; `--follow` keeps tailing. */
import { parseArgs } from 'node:util';
import { CHANGE_LOG, decodeChangeRecord, loadConfig, openAppendLog } from '../../engine/index.ts';

const { values } = parseArgs({ options: { follow: { type: 'boolean', short: 'f' }, from: { type: 'string' } }, strict: false, allowPositionals: true });
const loaded = loadConfig({ argv: [] });
if (!loaded.ok) {
  for (const issue of loaded.issues) process.stderr.write(`${issue.source}: ${issue.message}\n`);
  process.exit(2);
}
const { config } = loaded;
const log = await openAppendLog({ dataDir: config.dataDir, natsUrl: config.natsUrl, log: CHANGE_LOG, timeoutMs: config.natsTimeoutMs });
const from = Number(values.from ?? 1);
const print = (data: Uint8Array) => {
  for (const change of decodeChangeRecord(data)) process.stdout.write(`${JSON.stringify(change)}\n`);
};
if (values.follow === true) {
  const controller = new AbortController();
  process.on('SIGINT', () => controller.abort());
  for await (const batch of log.tail(from, { signal: controller.signal })) for (const e of batch) print(e.data);
} else {
  for (let next = from; ; ) {
    const batch = await log.read(next, 1000);
    if (batch.length === 0) break;
    for (const e of batch) print(e.data);
    next = batch[batch.length - 1]!.seq + 1;
  }
}
await log.close();
