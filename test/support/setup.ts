// Loaded before every test file (see the test:unit script). Fails the file when it leaves
// timers, sockets or child processes behind: every resource a test opens must be closed.
import { after } from 'node:test';
import assert from 'node:assert/strict';

const baseline = new Set(process.getActiveResourcesInfo());
const IGNORED = new Set(['TTYWrap', 'FSReqCallback', 'PipeWrap', 'Immediate']);

after(async () => {
  // Give close callbacks one turn of the event loop to run.
  await new Promise((resolve) => setImmediate(resolve));
  const leaked = process.getActiveResourcesInfo().filter((name) => !IGNORED.has(name) && !baseline.has(name));
  assert.deepEqual(leaked, [], `test file leaked resources: ${leaked.join(', ')}`);
});
