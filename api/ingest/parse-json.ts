/** Parses a request body as one JSON object, refusing bodies nested deeper than MAX_JSON_DEPTH before parsing them. */
import { MAX_JSON_DEPTH } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * The deepest nesting of `{`/`[` outside strings. One pass over the bytes: cheaper than parsing, and
 * it runs first so a 100,000-level body never reaches JSON.stringify or msgpack (both recurse).
 */
export function jsonDepth(bytes: Uint8Array, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

/** The body as a JSON object; a UTF-8 byte-order mark (some .NET clients send one) is skipped. */
export function parseJsonObject(bytes: Buffer): Readonly<Record<string, unknown>> {
  if (jsonDepth(bytes, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new HttpError(400, 'json_too_deep', `the body nests more than ${MAX_JSON_DEPTH} levels`);
  }
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'invalid_json', 'the body must be a JSON object');
  }
  return value as Readonly<Record<string, unknown>>;
}
