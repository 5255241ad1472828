/**
 * CSV export jobs: each writes one definition's export from ONE store snapshot to a file under the
 * exports directory, chunk by chunk with the event loop free between chunks, reporting progress and
 * an ETA; the API streams the finished file. One running export per definition; finished files are
 * kept for `ttlMs` (Segment's presigned URLs last about a day).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync, renameSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { DefinitionRegistry } from '../definitions/registry.ts';
import type { DefinitionRecord } from '../definitions/registry-record.ts';
import { servingVersion } from '../definitions/registry-record.ts';
import type { StoreHandle } from '../profiles/store-handle.ts';
import { csvChunks } from './csv-chunks.ts';
import type { ExportOptions } from './export-format.ts';
import type { ExportSource } from './export-profiles.ts';

export type ExportStatus = 'IN_PROGRESS' | 'SUCCESS' | 'FAIL';

export interface ExportJob {
  readonly exportId: string;
  readonly space: string;
  readonly definitionId: string;
  readonly kind: 'audience' | 'trait';
  readonly options: ExportOptions;
  /** the instant exported (as-of), or undefined: the current members. */
  readonly at: number | undefined;
  readonly startedAt: number;
  status: ExportStatus;
  finishedAt?: number;
  /** the checkpoint the snapshot saw. */
  snapshot?: { readonly position: number; readonly watermark: number };
  /** members read, and how many there are (unknown for an as-of export). */
  members: number;
  total: number | null;
  bytes: number;
  error?: string;
}

export type ExportStartResult =
  | { readonly ok: true; readonly job: ExportJob }
  | { readonly ok: false; readonly code: 'export-running' | 'unknown-computed-trait' | 'not-computed' | 'unavailable'; readonly message: string; readonly field?: string; readonly running?: ExportJob };

export interface ExportJobsConfig {
  readonly store: StoreHandle;
  readonly registry: DefinitionRegistry;
  /** where export files are written (removed with earlier exports on open; created by the first export). */
  readonly dir: string;
  readonly clock?: () => number;
  /** how long a finished export stays downloadable; default one day. */
  readonly ttlMs?: number;
}

export class ExportJobs {
  readonly #jobs = new Map<string, ExportJob>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #clock: () => number;
  readonly #ttl: number;

  constructor(private readonly config: ExportJobsConfig) {
    this.#clock = config.clock ?? Date.now;
    this.#ttl = config.ttlMs ?? 86_400_000;
    // jobs live in memory: files of a previous process can never be downloaded
    rmSync(config.dir, { recursive: true, force: true });
  }

  /** Starts exporting `record` (its serving version; as of `at.t` from version `at.version`'s history when given). */
  start(record: DefinitionRecord, options: ExportOptions, at?: { readonly t: number; readonly version: number }): ExportStartResult {
    this.#sweep();
    const running = [...this.#jobs.values()].find((j) => j.space === record.space && j.definitionId === record.id && j.status === 'IN_PROGRESS');
    if (running !== undefined) return { ok: false, code: 'export-running', message: `export ${running.exportId} of ${record.id} is still running: one export per definition at a time`, running };
    if (servingVersion(record) === undefined && at === undefined) return { ok: false, code: 'not-computed', message: `${record.id} has no computed version yet` };
    const computed: Array<{ id: string; version: number }> = [];
    const served = this.config.registry.served(record.space);
    for (const key of options.computedTraits) {
      const d = served.find((x) => x.kind === 'trait' && x.key === key);
      if (d === undefined) return { ok: false, code: 'unknown-computed-trait', message: `no computed trait "${key}" with a computed version in space ${record.space}`, field: 'computedTraits' };
      computed.push({ id: d.id, version: d.version });
    }
    const store = this.config.store.get();
    if (store === undefined) return { ok: false, code: 'unavailable', message: 'the engine state is not available yet' };
    const snap = store.snapshot();
    const meta = snap.meta();
    const source: ExportSource = {
      space: record.space,
      definitionId: record.id,
      target: record.definition.type,
      at,
      computed,
      customTraits: options.format === 'columns' && options.customTraits.length > 0,
      accountRows: options.accountRows,
    };
    const job: ExportJob = {
      exportId: `exp_${randomBytes(12).toString('hex')}`,
      space: record.space,
      definitionId: record.id,
      kind: record.kind,
      options,
      at: at?.t,
      startedAt: this.#clock(),
      status: 'IN_PROGRESS',
      ...(meta === undefined ? {} : { snapshot: { position: meta.position, watermark: meta.watermark } }),
      members: 0,
      total: at === undefined ? snap.outputCount(record.space, record.id) : null,
      bytes: 0,
    };
    this.#jobs.set(job.exportId, job);
    const run = this.#run(job, () => csvChunks(snap, job.kind, options, source))
      .catch((error: unknown) => {
        job.status = 'FAIL';
        job.error = (error as Error).message;
        rmSync(this.file(job), { force: true });
      })
      .finally(() => {
        job.finishedAt = this.#clock();
        this.#running.delete(job.exportId);
        try {
          snap.release();
        } catch (error) {
          // the store was closed under the export (shutdown): the job already failed with that cause
          job.error ??= `the store snapshot could not be released: ${(error as Error).message}`;
        }
      });
    this.#running.set(job.exportId, run);
    return { ok: true, job };
  }

  async #run(job: ExportJob, chunks: () => Iterable<{ bytes: Buffer; members: number }>): Promise<void> {
    mkdirSync(this.config.dir, { recursive: true });
    const partial = `${this.file(job)}.partial`;
    const out = createWriteStream(partial);
    const failed = once(out, 'error').then(([error]) => {
      throw error as Error;
    });
    failed.catch(() => {}); // raced below; observed there
    try {
      for (const chunk of chunks()) {
        job.members = chunk.members;
        if (!out.write(chunk.bytes)) await Promise.race([once(out, 'drain'), failed]);
        // between chunks the event loop serves requests (status polls, other APIs)
        else await new Promise((r) => setImmediate(r));
      }
      out.end();
      await Promise.race([once(out, 'finish'), failed]);
    } catch (error) {
      out.destroy();
      rmSync(partial, { force: true });
      throw error;
    }
    renameSync(partial, this.file(job));
    job.bytes = statSync(this.file(job)).size;
    job.status = 'SUCCESS';
  }

  /** A job of `space` (undefined: unknown, expired, or another space's). */
  get(space: string, exportId: string): ExportJob | undefined {
    this.#sweep();
    const job = this.#jobs.get(exportId);
    return job?.space === space ? job : undefined;
  }

  /** The path of a job's file (complete once the job is SUCCESS). */
  file(job: ExportJob): string {
    return join(this.config.dir, `${job.exportId}.csv`);
  }

  /** When a finished job's file is removed. */
  expiresAt(job: ExportJob): number | undefined {
    return job.finishedAt === undefined ? undefined : job.finishedAt + this.#ttl;
  }

  /** The progress (0–1) and the estimated end of a running job, when its size is known. */
  estimate(job: ExportJob): { readonly progress: number | null; readonly eta: number | null } {
    if (job.status !== 'IN_PROGRESS') return { progress: job.status === 'SUCCESS' ? 1 : null, eta: null };
    if (job.total === null) return { progress: null, eta: null };
    const progress = job.total === 0 ? 1 : Math.min(1, job.members / job.total);
    if (job.members === 0) return { progress, eta: null };
    const elapsed = this.#clock() - job.startedAt;
    return { progress, eta: this.#clock() + Math.round((elapsed / job.members) * (job.total - job.members)) };
  }

  /** Resolves when the job has finished (tests, shutdown). */
  async settled(exportId: string): Promise<void> {
    await this.#running.get(exportId);
  }

  /** Waits for every running export (shutdown: before the store closes). */
  async close(): Promise<void> {
    await Promise.all(this.#running.values());
  }

  #sweep(): void {
    const now = this.#clock();
    for (const job of this.#jobs.values()) {
      const expires = this.expiresAt(job);
      if (expires !== undefined && expires <= now) {
        rmSync(this.file(job), { force: true });
        this.#jobs.delete(job.exportId);
      }
    }
  }
}
