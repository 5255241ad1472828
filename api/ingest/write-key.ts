/** Finds the write key of a tracking request (HTTP Basic `writeKey:` or the body's `writeKey`) and the space it grants. */
import type { SpaceDirectory, WriteKeyGrant } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';

/**
 * The write key from `Authorization: Basic base64(writeKey:)`, or undefined when the header is
 * absent or another scheme (a Bearer token comes with the write key in the body, spec §9.2).
 */
export function basicAuthWriteKey(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^\s*basic\s+(\S+)\s*$/i.exec(authorization);
  if (m?.[1] === undefined) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  // the user part ends at the first colon (RFC 7617); Segment asks for one, some clients forget it.
  const colon = decoded.indexOf(':');
  return colon === -1 ? decoded : decoded.slice(0, colon);
}

/** The body's `writeKey` (analytics.js and the mobile libraries put it there). */
export function bodyWriteKey(body: Readonly<Record<string, unknown>>): string | undefined {
  const key = body['writeKey'];
  return typeof key === 'string' ? key : undefined;
}

/** Resolves a write key to its space, or throws 401. Basic auth wins over the body when both are present. */
export async function authorize(spaces: SpaceDirectory, writeKey: string | undefined): Promise<WriteKeyGrant> {
  if (writeKey === undefined || writeKey === '') {
    throw new HttpError(401, 'missing_write_key', 'send the write key as HTTP Basic auth ("writeKey:") or as "writeKey" in the body');
  }
  const grant = await spaces.byWriteKey(writeKey);
  if (grant === null) throw new HttpError(401, 'invalid_write_key', 'the write key is not valid');
  return grant;
}
