/**
 * A worker computes every definition of the registry: user definitions and account definitions
 * (each account where its partition is, over shadows of its users — test/engine/cluster/partitioned).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefinitionRegistry } from '../../../engine/definitions/registry.ts';
import { registryPlans } from '../../../engine/cluster/roles.ts';

test('registryPlans: user and account definitions compiled, none left out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-registry-plans-'));
  const registry = DefinitionRegistry.open(join(dir, 'registry'));
  try {
    await registry.create({ space: 'spa_a', kind: 'audience', key: 'viewers', name: 'v', definition: { query: "event('Product Viewed').count() >= 1", type: 'USERS' } });
    await registry.create({ space: 'spa_a', kind: 'audience', key: 'busy_accounts', name: 'b', definition: { query: "ANY event('Product Viewed').count() >= 1", type: 'ACCOUNTS' } });
    const { plans, leftOut } = registryPlans(registry);
    assert.equal(plans.get('spa_a')!.definitions.filter((d) => !d.hidden).map((d) => d.input.key), ['viewers', 'busy_accounts']);
    assert.equal(leftOut, []);
  } finally {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
