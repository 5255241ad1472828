/** Tests for the JSON-lines logger. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonLogger } from '../../api/logger.ts';

test('one JSON object per line with time, level, message and fields; errors expanded with causes', () => {
  const lines: string[] = [];
  const logger = jsonLogger((line) => lines.push(line));
  logger.info('started', { port: 8080 });
  logger.warn('careful');
  logger.error('append failed', { error: new Error('outer', { cause: new RangeError('inner') }) });
  assert.is(lines.length, 3);
  assert.ok(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n')));
  const [info, warn, error] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.is(info?.['level'], 'info');
  assert.is(info?.['message'], 'started');
  assert.is(info?.['port'], 8080);
  assert.ok(!Number.isNaN(Date.parse(String(info?.['time']))));
  assert.is(warn?.['level'], 'warn');
  const described = error?.['error'] as { name: string; message: string; cause: { name: string; message: string } };
  assert.is(described.message, 'outer');
  assert.equal([described.cause.name, described.cause.message], ['RangeError', 'inner']);
});

test.run();
