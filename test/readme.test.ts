/** The README stays true: every configuration setting, the two quick-start commands, every npm script it names. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { CONFIG_SETTINGS } from '../engine/config.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

test('the quick start shows exactly the two commands', () => {
  assert.ok(readme.includes('npm install && npm start'));
  assert.ok(readme.includes('npm test'));
});

test('every setting is in the configuration table, with its flag and variable', () => {
  for (const s of Object.values(CONFIG_SETTINGS)) {
    assert.ok(readme.includes(`\`--${s.flag}\``), `--${s.flag} missing from README`);
    assert.ok(readme.includes(`\`${s.env}\``), `${s.env} missing from README`);
  }
});

test('every `npm run <script>` the README names exists', () => {
  for (const [, name] of readme.matchAll(/npm run ([a-z:]+)/g)) assert.ok(pkg.scripts[name!], `npm run ${name} is not a script`);
});

test.run();
