/**
 * One Flock under the chaos harness: started as `npm start` in its own process group, restarted
 * after every exit like a supervisor would, killed with `kill -9` on request; it counts restart-to-ready
 * times, failed starts, deliberate (FLOCK_FAULT) kills and exits nobody asked for.
 */
import { startFlock, type Flock } from '../../test/support/flock-process.ts';

export interface FlockUnderTestOptions {
  readonly dataDir: string;
  readonly definitionsFile: string;
  readonly clock: 'wall' | 'event';
  readonly natsUrl?: string | undefined;
  /** progress lines. */
  readonly say: (line: string) => void;
  readonly name: string;
}

export interface FlockCounts {
  /** start → `/readyz` 200, ms, of every start after the first. */
  readonly readyMs: number[];
  /** starts that exited or did not get ready in time. */
  failedStarts: number;
  /** exits nobody asked for (not a kill of ours, not a FLOCK_FAULT kill), with their last log line. */
  readonly unexpectedExits: string[];
  /** deliberate kills by FLOCK_FAULT, by spec. */
  readonly faultKills: string[];
  randomKills: number;
}

const READY_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class FlockUnderTest {
  readonly counts: FlockCounts = { readyMs: [], failedStarts: 0, unexpectedExits: [], faultKills: [], randomKills: 0 };
  #process: Flock | undefined;
  #url: string | undefined;
  #fault: string | undefined;
  #wanted = false;
  #starts = 0;
  #killing = false;
  #isReady = false;
  #readySince = 0;
  /** the supervisor loop: (re)starts while wanted. */
  #loop: Promise<void> = Promise.resolve();
  #ready: Promise<void> = Promise.resolve();
  #markReady: () => void = () => {};
  readonly #o: FlockUnderTestOptions;
  /** FLOCK_FAULT specs for the next starts, one per start. */
  readonly faults: string[] = [];

  constructor(options: FlockUnderTestOptions) {
    this.#o = options;
  }

  /** where it listens, while it does. */
  get url(): string | undefined {
    return this.#url;
  }

  /** Starts it and keeps it running (restarting after each exit) until `stop`; resolves when ready. */
  async start(): Promise<void> {
    this.#wanted = true;
    this.#newReadyGate();
    this.#loop = this.#supervise();
    await this.#ready;
  }

  /** Resolves when the running process is ready (after restarts). */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** whether it is up and ready (caught up since its start), and not being killed. */
  get ready(): boolean {
    return this.up && this.#isReady;
  }

  /** ms it has been ready, and whether this start carries a FLOCK_FAULT (still to be reached). */
  readiness(): { readonly readyForMs: number; readonly fault: boolean } {
    return { readyForMs: this.ready ? Date.now() - this.#readySince : 0, fault: this.#fault !== undefined };
  }

  /** whether it is up: listening (taking events; maybe still catching up) and not being killed. */
  get up(): boolean {
    return this.#process !== undefined && this.#url !== undefined && !this.#killing;
  }

  /** `kill -9` of the process group if it is up (a kill before it listens tells nothing new); the supervisor restarts it. */
  kill9(): boolean {
    const p = this.#process;
    if (p === undefined || !this.up) return false;
    this.counts.randomKills++;
    this.#killing = true;
    p.kill9();
    return true;
  }

  /** SIGTERM (a clean stop with a final checkpoint), no restart. */
  async stop(): Promise<void> {
    this.#wanted = false;
    const p = this.#process;
    if (p !== undefined) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await this.#loop;
  }

  #newReadyGate(): void {
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  async #supervise(): Promise<void> {
    while (this.#wanted) {
      const fault = this.faults.shift();
      this.#fault = fault;
      const started = Date.now();
      const first = this.#starts++ === 0;
      const args = ['--data-dir', this.#o.dataDir, '--port', '0', '--clock', this.#o.clock, '--definitions-file', this.#o.definitionsFile, '--rate-limit', '0'];
      if (this.#o.natsUrl !== undefined) args.push('--nats-url', this.#o.natsUrl);
      const p = startFlock(args, fault === undefined ? {} : { FLOCK_FAULT: fault });
      this.#process = p;
      let ready = false;
      const exit = p.exited.then(() => 'exit' as const);
      try {
        const listening = await Promise.race([p.waitFor('flock listening', READY_TIMEOUT_MS), exit]);
        if (listening !== 'exit') {
          this.#url = String(listening['url']).replace(/\/$/, '');
          const deadline = started + READY_TIMEOUT_MS;
          while (Date.now() < deadline && p.child.exitCode === null && p.child.signalCode === null) {
            if (await readyz(this.#url)) {
              ready = true;
              break;
            }
            await sleep(25);
          }
        }
      } catch {
        // (no listening line in time: a failed start)
      }
      if (ready) {
        if (!first) this.counts.readyMs.push(Date.now() - started);
        this.#isReady = true;
        this.#readySince = Date.now();
        this.#markReady();
      } else if (p.child.exitCode === null && p.child.signalCode === null) {
        p.kill9();
      }
      await p.exited;
      this.#isReady = false;
      this.#url = undefined;
      this.#process = undefined;
      const signal = p.signal();
      const killedByUs = this.#killing;
      this.#killing = false;
      if (!this.#wanted) break;
      if (ready) this.#newReadyGate();
      const faultKill = signal === 'SIGKILL' && !killedByUs && fault !== undefined;
      // (a fault point not reached in this start: the next start tries again)
      if (fault !== undefined && !faultKill) this.faults.unshift(fault);
      if (signal === 'SIGKILL' && killedByUs) {
        this.#o.say(`${this.#o.name}: killed (kill -9)`);
      } else if (faultKill) {
        this.counts.faultKills.push(fault);
        this.#o.say(`${this.#o.name}: killed itself at FLOCK_FAULT=${fault}`);
      } else if (!ready) {
        this.counts.failedStarts++;
        this.#o.say(`${this.#o.name}: failed start (${lastError(p)})`);
        await sleep(500);
      } else {
        this.counts.unexpectedExits.push(lastError(p));
        this.#o.say(`${this.#o.name}: exited by itself (${lastError(p)})`);
      }
    }
  }
}

async function readyz(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await response.text();
    return response.status === 200;
  } catch {
    return false;
  }
}

function lastError(p: Flock): string {
  const errors = p.lines.filter((line) => line['level'] === 'error');
  const line = errors[errors.length - 1] ?? p.lines[p.lines.length - 1];
  if (line === undefined) return `code ${p.child.exitCode}, signal ${p.signal()}`;
  const error = line['error'] as { message?: string } | undefined;
  return `${String(line['message'])}${error?.message === undefined ? '' : `: ${error.message}`}`.slice(0, 300);
}

/** How many definitions are Live (from `/metrics`). */
export async function liveDefinitions(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  let n = 0;
  for (const m of text.matchAll(/^flock_definitions\{[^}]*status="Live"[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

/** Waits until `expected` definitions are Live. */
export async function waitLive(flock: FlockUnderTest, expected: number, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await flock.whenReady();
    const url = flock.url;
    if (url !== undefined) {
      try {
        if ((await liveDefinitions(url)) >= expected) return;
      } catch {
        // (restarting)
      }
    }
    if (Date.now() > deadline) throw new Error(`fewer than ${expected} definitions Live after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Waits until the engine has checkpointed the whole log (`/metrics`: lag 0 at a position > 0, seen twice a stats period apart). */
export async function waitCaughtUp(flock: FlockUnderTest, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  for (;;) {
    await flock.whenReady();
    const url = flock.url;
    let caughtUp = false;
    if (url !== undefined) {
      try {
        const text = await (await fetch(`${url}/metrics`)).text();
        const lag = /^flock_engine_lag_events (\d+)/m.exec(text)?.[1];
        const position = /^flock_engine_position (\d+)/m.exec(text)?.[1];
        caughtUp = lag === '0' && Number(position ?? 0) > 0;
      } catch {
        // (restarting)
      }
    }
    seen = caughtUp ? seen + 1 : 0;
    if (seen >= 2) return;
    if (Date.now() > deadline) throw new Error(`the engine did not catch up with the log in ${timeoutMs} ms`);
    await sleep(1_100);
  }
}
