/** A Flock app over an in-memory event log and two spaces, with a request helper, for the ingest API tests. */
import { gzipSync } from 'node:zlib';
import type { Hono } from 'hono';
import { createApp, type AppDeps } from '../../api/app.ts';
import type { Logger } from '../../api/logger.ts';
import { staticSpaceDirectory } from '../../engine/space/space-directory.ts';
import type { EventLog } from '../../engine/log/event-log.ts';
import { memoryEventLog, type MemoryEventLog } from './memory-event-log.ts';

export const WRITE_KEY = 'wk_test';
export const OTHER_WRITE_KEY = 'wk_other';
export const SPACES = [
  { id: 'spa_test', name: 'Test', writeKeys: [{ key: WRITE_KEY, sourceId: 'src_test' }] },
  { id: 'spa_other', name: 'Other', writeKeys: [{ key: OTHER_WRITE_KEY, sourceId: 'src_other' }] },
];
/** the fixed receipt time of every request, unless a test moves the clock. */
export const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

export const basic = (writeKey: string): string => `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;

export interface PostOptions {
  /** default: Basic auth with WRITE_KEY. `false`: no Authorization header. */
  readonly auth?: string | false;
  readonly headers?: Readonly<Record<string, string>>;
  readonly gzip?: boolean;
}

export interface TestApp<L extends Pick<EventLog, 'append'>> {
  readonly app: Hono;
  readonly log: L;
  readonly clock: { now: number };
  readonly logs: { level: string; message: string; fields: unknown }[];
  post(path: string, body: unknown, options?: PostOptions): Promise<Response>;
}

export function ingestApp(overrides?: Partial<Omit<AppDeps, 'eventLog'>>): TestApp<MemoryEventLog>;
export function ingestApp<L extends Pick<EventLog, 'append'>>(overrides: Partial<AppDeps> & { eventLog: L }): TestApp<L>;
export function ingestApp(overrides: Partial<AppDeps> = {}): TestApp<Pick<EventLog, 'append'>> {
  const log = overrides.eventLog ?? memoryEventLog();
  const clock = { now: NOW };
  const logs: TestApp<EventLog>['logs'] = [];
  const logger: Logger = {
    info: (message, fields) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
    error: (message, fields) => logs.push({ level: 'error', message, fields }),
  };
  let ids = 0;
  const app = createApp({
    spaces: staticSpaceDirectory(SPACES),
    clock: () => clock.now,
    logger,
    newMessageId: () => `gen-${++ids}`,
    ...overrides,
    eventLog: log,
  });
  return {
    app,
    log,
    clock,
    logs,
    async post(path, body, options = {}) {
      const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
      const auth = options.auth ?? basic(WRITE_KEY);
      if (auth !== false) headers['authorization'] = auth;
      let payload: string | Buffer = text;
      if (options.gzip === true) {
        payload = gzipSync(text);
        headers['content-encoding'] = 'gzip';
      }
      return app.request(path, { method: 'POST', headers, body: payload });
    },
  };
}
