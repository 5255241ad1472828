/** Test support: polls a probe until it gives a value, or fails naming what it waited for. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** resolves with the first value `probe` gives that is not undefined; throws after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
