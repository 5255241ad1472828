/** Parses a request body as one JSON object, after one byte scan that bounds its nesting and measures each batch item. */
import { MAX_JSON_DEPTH } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const BATCH = Buffer.from('batch');

const isSpace = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

export interface JsonScan {
  /** deepest nesting of `{`/`[` outside strings (stops counting once over `maxDepth`). */
  readonly depth: number;
  /**
   * Byte size of each element of the top-level `"batch"` array, as sent (surrounding whitespace
   * excluded), or null when there is none the scan recognises (e.g. a key written with escapes).
   */
  readonly batchItemBytes: number[] | null;
}

/**
 * One pass over the bytes, cheaper than parsing. It runs first so a 100,000-level body never reaches
 * JSON.parse's callers, JSON.stringify or msgpack (all recursive), and it measures batch items as
 * sent so they need not be re-serialised for the 32 KB check. UTF-8 continuation bytes are never
 * ASCII, so scanning bytes is safe.
 */
export function scanJson(bytes: Uint8Array, maxDepth = Number.POSITIVE_INFINITY): JsonScan {
  let depth = 0;
  let deepest = 0;
  // the last key read in the top-level object, as a byte range.
  let keyStart = -1;
  let keyEnd = -1;
  let expectKey = false;
  let items: number[] | null = null;
  let inBatch = false;
  let itemStart = -1;
  let itemLast = -1;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      if (inBatch && itemStart === -1) itemStart = i;
      const start = i + 1;
      i = closingQuote(bytes, start);
      if (depth === 1 && expectKey) {
        keyStart = start;
        keyEnd = i;
        expectKey = false;
      }
      if (inBatch) itemLast = i;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > maxDepth) return { depth: deepest, batchItemBytes: null };
      }
      if (depth === 1) expectKey = byte === OPEN_BRACE;
      else if (depth === 2 && byte === OPEN_BRACKET && isKey(bytes, keyStart, keyEnd)) {
        // a repeated "batch" key: JSON.parse keeps the last one, and so does this.
        items = [];
        inBatch = true;
        itemStart = -1;
        continue;
      }
      if (inBatch && itemStart === -1) itemStart = i;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      if (inBatch) {
        if (depth === 2) {
          if (itemStart !== -1) items?.push(itemLast - itemStart + 1);
          inBatch = false;
        } else itemLast = i;
      }
      depth--;
    } else if (byte === COMMA) {
      if (depth === 1) expectKey = true;
      else if (inBatch && depth === 2) {
        if (itemStart !== -1) items?.push(itemLast - itemStart + 1);
        itemStart = -1;
      }
    } else if (inBatch && !isSpace(byte)) {
      if (itemStart === -1) itemStart = i;
      itemLast = i;
    }
  }
  return { depth: deepest, batchItemBytes: items };
}

/** Index of the quote that ends the string starting at `from` (or the end of input); strings are skipped natively, not byte by byte. */
function closingQuote(bytes: Uint8Array, from: number): number {
  let at = from;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, at);
    if (quote === -1) return bytes.length;
    // escaped when preceded by an odd number of backslashes.
    let slashes = 0;
    while (quote - slashes - 1 >= from && bytes[quote - slashes - 1] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

function isKey(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start !== BATCH.length) return false;
  for (let j = 0; j < BATCH.length; j++) if (bytes[start + j] !== BATCH[j]) return false;
  return true;
}

export interface ParsedBody {
  readonly body: Readonly<Record<string, unknown>>;
  readonly batchItemBytes: readonly number[] | null;
}

/** The body as a JSON object; a UTF-8 byte-order mark (some .NET clients send one) is skipped. */
export function parseJsonObject(bytes: Buffer): ParsedBody {
  const scan = scanJson(bytes, MAX_JSON_DEPTH);
  if (scan.depth > MAX_JSON_DEPTH) {
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
  return { body: value as Readonly<Record<string, unknown>>, batchItemBytes: scan.batchItemBytes };
}
