import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import packageJson from '../../package.json' with { type: 'json' };
import { tempDir } from '../config/temp-dir.ts';

const BIN = fileURLToPath(new URL('../../bin/baton.js', import.meta.url));

/**
 * Runs bin/baton.js in a child process on this Node (24 under npm), in `cwd`, with only the
 * given environment so that BATON_* variables of the developer's shell do not leak in.
 */
function baton(cwd: string, args: readonly string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('bin/baton.js (child process)', () => {
  test('baton --version', (t) => {
    assert.deepEqual(baton(tempDir(t), ['--version']), {
      status: 0,
      stdout: `${packageJson.version}\n`,
      stderr: '',
    });
  });

  test('baton config --json prints valid JSON with secrets redacted', (t) => {
    const { status, stdout, stderr } = baton(tempDir(t), ['config', '--json'], {
      BATON_STORE: 'postgres://u:hunter2@h/db',
    });
    assert.equal(status, 0, stderr);
    const config = JSON.parse(stdout) as { store: string; port: number };
    assert.equal(config.store, 'postgres://u:[redacted]@h/db');
    assert.equal(config.port, 8080);
    assert.ok(!stdout.includes('hunter2') && !stderr.includes('hunter2'));
  });

  test('BATON_PORT=abc baton config exits 2 and names BATON_PORT', (t) => {
    const { status, stdout, stderr } = baton(tempDir(t), ['config'], { BATON_PORT: 'abc' });
    assert.equal(status, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /BATON_PORT: expected an integer from 0 to 65535, got "abc"/);
    assert.ok(!/\n\s+at /.test(stderr), 'no stack trace');
  });

  test('an unknown command exits non-zero and suggests the right one', (t) => {
    const { status, stderr } = baton(tempDir(t), ['confg']);
    assert.equal(status, 2);
    assert.match(stderr, /unknown command 'confg'\n\(Did you mean config\?\)/);
  });

  test('an unknown flag exits non-zero and points to --help', (t) => {
    const { status, stderr } = baton(tempDir(t), ['config', '--bogus']);
    assert.equal(status, 2);
    assert.match(stderr, /unknown option '--bogus'/);
    assert.match(stderr, /baton --help/);
  });
});
