/**
 * What a shutdown signal (SIGINT, SIGTERM) means to `npm start`. One Ctrl-C reaches the service more
 * than once: the terminal signals the whole process group (npm, the service), and npm forwards the
 * signal it got to its child. So a repeat within `echoMs` of the first is the same stop and is
 * ignored; a later one is someone insisting, and the service exits without waiting.
 */
import type { Logger } from './logger.ts';

export type SignalDecision = 'stop' | 'echo' | 'force';

/** How long after the first signal a repeat is taken for its echo (ms). */
export const SIGNAL_ECHO_MS = 2000;

export function signalEcho(echoMs = SIGNAL_ECHO_MS, clock: () => number = Date.now): () => SignalDecision {
  let first: number | undefined;
  return () => {
    const now = clock();
    if (first === undefined) {
      first = now;
      return 'stop';
    }
    return now - first < echoMs ? 'echo' : 'force';
  };
}

/**
 * Runs `stop` on the first SIGINT/SIGTERM (a repeat within `SIGNAL_ECHO_MS` is its echo and is
 * ignored; a later one exits at once, code 1); a `stop` that fails exits with code 1.
 */
export function onShutdownSignal(logger: Logger, stop: (signal: NodeJS.Signals) => Promise<void>): void {
  const decide = signalEcho();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      const decision = decide();
      if (decision === 'echo') {
        logger.info('signal repeated while stopping: the same stop', { signal, withinMs: SIGNAL_ECHO_MS });
        return;
      }
      if (decision === 'force') {
        logger.warn('second signal: exiting without waiting', { signal });
        process.exit(1);
      }
      stop(signal).catch((error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      });
    });
  }
}
