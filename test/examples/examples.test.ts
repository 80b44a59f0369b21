// Runs every example in a child process, as a reader would, so the examples cannot rot: each
// must exit 0 and print the lines that show it did its job.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `examples/<file>` on this Node (24 under npm) from the repository root. */
function runExample(file: string) {
  const result = spawnSync(process.execPath, [`examples/${file}`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

describe('examples (child process)', () => {
  test('quickstart.ts retries a step and completes the diamond', () => {
    const { status, signal, stdout, stderr } = runExample('quickstart.ts');
    assert.equal(status, 0, `exit ${status ?? signal}\n${stderr}`);
    assert.match(stdout, /same key again: same task \(created: false\)/);
    assert.match(stdout, /inventory failed: inventory service busy; retry in 100 ms/);
    assert.match(stdout, /^status: completed$/m);
    assert.match(stdout, /^result: \{"quote":\{"total":50,"currency":"EUR"\}\}$/m);
    assert.match(stdout, /^inventory attempts: 2$/m);
    assert.match(stdout, /^history: \d+ transitions$/m);
  });

  test('yaml-templates.ts loads examples/templates and runs an order both ways', () => {
    const { status, signal, stdout, stderr } = runExample('yaml-templates.ts');
    assert.equal(status, 0, `exit ${status ?? signal}\n${stderr}`);
    assert.match(stdout, /^loaded: shop\.order@1\.0\.0$/m);
    assert.match(stdout, /"A-1".* → completed\n.*\n {2}charge +completed +attempts 2/);
    assert.match(stdout, /"A-2".* → failed/);
    assert.match(stdout, /^dead letter \S+: task \S+, step reserve: cannot reserve 50 items/m);
  });
});
