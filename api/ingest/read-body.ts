/** Reads a request body with a hard byte limit, before and after gzip decompression (no zip bombs). */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { HttpError } from '../http-error.ts';

const gunzipAsync = promisify(gunzip);

const tooLarge = (limit: number, what: string) =>
  new HttpError(400, 'request_too_large', `the request body is over ${limit} bytes${what}`);

/**
 * The body's bytes, decompressed when `Content-Encoding: gzip`. Mobile libraries stream chunked
 * bodies with no Content-Length, so the limit is enforced while reading; zlib stops inflating at
 * the same limit, so a small bomb never allocates more than `limit` bytes.
 */
export async function readBody(request: Request, limit: number): Promise<Buffer> {
  const encoding = (request.headers.get('content-encoding') ?? '').trim().toLowerCase() || 'identity';
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new HttpError(415, 'unsupported_encoding', `Content-Encoding "${encoding}" is not supported; send gzip or nothing`);
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit, '');
  const raw = await readLimited(request, limit);
  if (encoding === 'identity') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit, ' once decompressed');
    throw new HttpError(400, 'invalid_gzip', 'the body is not valid gzip', {}, { cause: error });
  }
}

async function readLimited(request: Request, limit: number): Promise<Buffer> {
  if (request.body === null) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (error) {
      // the client went away mid-upload; the answer will likely never arrive, but it must not be a 500.
      throw new HttpError(400, 'incomplete_body', 'the request body ended early', {}, { cause: error });
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // stop the upload rather than buffer what will be refused.
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit, '');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
