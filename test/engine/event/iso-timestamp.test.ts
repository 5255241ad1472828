/** Tests for the ISO-8601 parser that reads client timestamps. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIsoTimestamp } from '../../../engine/event/iso-timestamp.ts';

test('the shapes real clients send', () => {
  const at = Date.UTC(2024, 4, 1, 12, 0, 0, 123);
  assert.is(parseIsoTimestamp('2024-05-01T12:00:00.123Z'), at); // analytics.js, analytics-kotlin, analytics-swift
  assert.is(parseIsoTimestamp('2024-05-01T12:00:00.123456+00:00'), at); // analytics-python
  assert.is(parseIsoTimestamp('2024-05-01T14:00:00.123+02:00'), at);
  assert.is(parseIsoTimestamp('2024-05-01T14:00:00.123+0200'), at);
  assert.is(parseIsoTimestamp('2024-05-01T07:00:00.123-05'), at);
  assert.is(parseIsoTimestamp('2024-05-01T12:00:00.123456789Z'), at); // Go's RFC3339Nano
  assert.is(parseIsoTimestamp('2024-05-01 12:00:00.123z'), at);
});

test('a time without a zone is UTC, a date alone is midnight UTC', () => {
  assert.is(parseIsoTimestamp('2024-05-01T12:00:00'), Date.UTC(2024, 4, 1, 12));
  assert.is(parseIsoTimestamp('2024-05-01T12:00'), Date.UTC(2024, 4, 1, 12));
  assert.is(parseIsoTimestamp('2024-05-01'), Date.UTC(2024, 4, 1));
});

test('a leap second reads as :59 and a two-digit year is not shifted to the 1900s', () => {
  assert.is(parseIsoTimestamp('2016-12-31T23:59:60Z'), Date.UTC(2016, 11, 31, 23, 59, 59));
  const year50 = parseIsoTimestamp('0050-01-01T00:00:00Z');
  assert.is(year50 === null ? null : new Date(year50).getUTCFullYear(), 50);
});

test('rejects what is not an ISO-8601 date-time', () => {
  for (const text of [
    '',
    'yesterday',
    '1714564800000',
    'Wed, 01 May 2024 12:00:00 GMT',
    '2024-13-01T00:00:00Z',
    '2024-02-30T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:60:00Z',
    '2024-05-01T12:00:00+25:00',
    '2024-5-1',
    '2024-05-01T12:00:00Zjunk',
  ]) {
    assert.is(parseIsoTimestamp(text), null, text);
  }
});

test.run();
