import { test } from 'node:test';
import assert from 'node:assert/strict';
test('runs on node 24', () => {
  assert.match(process.version, /^v24\./);
});
