/** Test support: a batch of Segment calls to a running Flock's tracking API, as a Segment library sends it (Basic auth with the write key). */
export function sendBatch(url: string, batch: readonly Record<string, unknown>[], writeKey = 'dev_write_key'): Promise<Response> {
  return fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ batch }),
  });
}
