/**
 * A worker computes user definitions only: account definitions (an account's users live in many
 * partitions) are left out and named — not computed from one partition's share of the users.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefinitionRegistry } from '../../../engine/definitions/registry.ts';
import { registryPlans } from '../../../engine/cluster/roles.ts';

test('registryPlans: user definitions compiled, account definitions left out and named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-registry-plans-'));
  const registry = DefinitionRegistry.open(join(dir, 'registry'));
  try {
    await registry.create({ space: 'spa_a', kind: 'audience', key: 'viewers', name: 'v', definition: { query: "event('Product Viewed').count() >= 1", type: 'USERS' } });
    await registry.create({ space: 'spa_a', kind: 'audience', key: 'busy_accounts', name: 'b', definition: { query: "ANY event('Product Viewed').count() >= 1", type: 'ACCOUNTS' } });
    const { plans, leftOut } = registryPlans(registry);
    assert.equal(plans.get('spa_a')!.definitions.map((d) => d.input.key), ['viewers']);
    assert.equal(leftOut, [{ space: 'spa_a', key: 'busy_accounts' }]);
  } finally {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
