/** Parses the ISO-8601 date-times real Segment clients send into epoch milliseconds, or null. */

// Date, optional time (with `T`, `t` or a space), optional fraction of any precision, optional zone.
// Date.parse is not used: it accepts many non-ISO shapes and reads zone-less times in the server's zone.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * `2024-05-01T12:00:00.123Z`, `2024-05-01T12:00:00.123456+02:00`, `2024-05-01T12:00:00+0200`,
 * `2024-05-01 12:00:00Z`, `2024-05-01`. A time without a zone is read as UTC, so the result never
 * depends on where the server runs. Fractions beyond milliseconds are truncated.
 */
export function parseIsoTimestamp(text: string): number | null {
  const m = ISO.exec(text);
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  // a leap second (:60) is read as :59, as most date libraries do.
  const second = m[6] === undefined ? 0 : Math.min(Number(m[6]), 59);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59) return null;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  // Date.UTC maps years 0–99 to 1900–1999.
  if (year < 100) date.setUTCFullYear(year);
  // Date.UTC rolls 2024-02-30 over to March: reject days the month does not have.
  if (date.getUTCDate() !== day) return null;
  const offset = offsetMillis(m[8]);
  return offset === null ? null : date.getTime() - offset;
}

function offsetMillis(zone: string | undefined): number | null {
  if (zone === undefined || zone === 'Z' || zone === 'z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes) * 60_000;
}
