import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderConfigReference } from '../../src/config/index.ts';

/** Table rows as cell lists, so column padding (Prettier's) does not matter. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| `BATON_'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

test('the README configuration table is the one the code documents', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const documented = tableRows(renderConfigReference());
  assert.ok(documented.length > 10);
  assert.deepEqual(tableRows(readme), documented, 'regenerate it with `npm run -s baton -- config --docs`');
});
