/** Closing an LMDB environment safely. */
import type { RootDatabase } from 'lmdb';

/** Lets every write settle, then closes (lmdb-js hung when closed in the turn of a transaction). */
export async function closeEnv(env: RootDatabase): Promise<void> {
  await env.flushed;
  await new Promise((resolve) => setImmediate(resolve));
  await env.close();
}
