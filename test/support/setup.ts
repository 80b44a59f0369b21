// Loaded before every test file (see the test:unit script). Fails the file when it leaves
// timers, sockets or child processes behind: every resource a test opens must be closed.
import { after } from 'node:test';
import assert from 'node:assert/strict';

const baseline = new Set(process.getActiveResourcesInfo());
const IGNORED = new Set(['TTYWrap', 'FSReqCallback', 'PipeWrap', 'Immediate']);

after(async () => {
  // Handles close asynchronously (a child process is released a moment after its 'close' event),
  // so give stragglers a short grace period before calling them leaks.
  let leaked: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((resolve) => setImmediate(resolve));
    leaked = process.getActiveResourcesInfo().filter((name) => !IGNORED.has(name) && !baseline.has(name));
    if (leaked.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25).unref());
  }
  assert.deepEqual(leaked, [], `test file leaked resources: ${leaked.join(', ')}`);
});
