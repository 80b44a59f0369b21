import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runDemo } from '../../src/demo/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the demo runs its workflows to the expected outcomes and prints a summary', async () => {
  const lines: string[] = [];
  const result = await runDemo({ path: join(dir, 'demo.db'), write: (line) => lines.push(line) });
  assert.deepEqual(result.failures, []);
  assert.equal(result.ok, true);
  const [order, report] = result.tasks;
  assert.equal(order!.steps.find((step) => step.name === 'charge')!.attempts, 3);
  assert.equal(report!.status, 'completed');
  const output = lines.join('\n');
  assert.match(output, /charge failed: payment gateway timeout \(attempt 1\); retrying in \d+ ms/);
  assert.match(output, /task moved to the dead-letter queue/);
  assert.match(output, /demo\.order-fulfilment\s+completed\s+4\s+6/);
  assert.match(output, /Every outcome was as expected/);
});
