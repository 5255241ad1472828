/**
 * What a shutdown signal (SIGINT, SIGTERM) means to `npm start`. One Ctrl-C reaches the service more
 * than once: the terminal signals the whole process group (npm, the service), and npm forwards the
 * signal it got to its child. So a repeat within `echoMs` of the first is the same stop and is
 * ignored; a later one is someone insisting, and the service exits without waiting.
 */
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
