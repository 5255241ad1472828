/** Tests for the static space directory: write key → space and source. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { staticSpaceDirectory } from '../../../engine/space/space-directory.ts';
import { DEVELOPMENT_SPACE } from '../../../engine/space/space.ts';

test('finds the space and source of each key; unknown keys answer null', async () => {
  const directory = staticSpaceDirectory([
    DEVELOPMENT_SPACE,
    { id: 'spa_b', name: 'B', writeKeys: [{ key: 'k1', sourceId: 's1' }, { key: 'k2', sourceId: 's2' }] },
  ]);
  assert.equal(await directory.byWriteKey('dev_write_key'), { space: { id: 'spa_default', name: 'Default (development)' }, sourceId: 'src_default' });
  assert.equal(await directory.byWriteKey('k2'), { space: { id: 'spa_b', name: 'B' }, sourceId: 's2' });
  assert.is(await directory.byWriteKey('k3'), null);
  assert.is(await directory.byWriteKey(''), null);
  // keys are exact: no prototype lookups, no case folding.
  assert.is(await directory.byWriteKey('constructor'), null);
  assert.is(await directory.byWriteKey('K1'), null);
});

test('access and management tokens: each finds its space only in its own role', async () => {
  const directory = staticSpaceDirectory([
    DEVELOPMENT_SPACE,
    { id: 'spa_b', name: 'B', writeKeys: [{ key: 'wk_b', sourceId: 's' }], accessTokens: ['acc_b'], managementTokens: ['mgt_b'], profileRateLimit: 5 },
  ]);
  assert.equal(await directory.byAccessToken?.('dev_access_token'), { space: { id: 'spa_default', name: 'Default (development)' } });
  assert.equal(await directory.byManagementToken?.('dev_management_token'), { space: { id: 'spa_default', name: 'Default (development)' } });
  assert.equal(await directory.byAccessToken?.('acc_b'), { space: { id: 'spa_b', name: 'B' }, profileRateLimit: 5 });
  // a secret of one role is nothing in another
  assert.is(await directory.byAccessToken?.('mgt_b'), null);
  assert.is(await directory.byAccessToken?.('wk_b'), null);
  assert.is(await directory.byManagementToken?.('acc_b'), null);
  assert.is(await directory.byManagementToken?.('wk_b'), null);
  assert.is(await directory.byWriteKey('acc_b'), null);
});

test.run();
