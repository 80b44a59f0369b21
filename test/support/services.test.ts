// The skip/fail policy for suites that need PostgreSQL or Redis: decided directly with an explicit
// env, and end to end in a child `node --test` run on a fixture file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { postgresService } from './postgres.ts';
import { redisService } from './redis.ts';
import { fileSlug, isCi, requireService } from './services.ts';
import type { Service } from './services.ts';

const UNREACHABLE_PG = 'postgres://postgres:s3cret@127.0.0.1:1/test';
const UNREACHABLE_REDIS = 'redis://:s3cret@127.0.0.1:1';

describe('requireService', () => {
  test('skips an unreachable PostgreSQL outside CI, with a message that names it and the fix', async () => {
    const check = await requireService(postgresService(UNREACHABLE_PG), {});
    assert.deepEqual(check, {
      available: false,
      action: 'skip',
      reason:
        'PostgreSQL not reachable at 127.0.0.1:1 (connect ECONNREFUSED); skipping. Start it or set TEST_PG_URL.',
    });
  });

  test('fails an unreachable PostgreSQL under CI=true', async () => {
    const check = await requireService(postgresService(UNREACHABLE_PG), { CI: 'true' });
    assert.equal(check.available, false);
    assert.equal(check.action, 'fail');
    assert.match(
      check.reason,
      /^PostgreSQL not reachable at 127\.0\.0\.1:1 \(connect ECONNREFUSED\); failing/,
    );
    assert.match(check.reason, /Start it or set TEST_PG_URL\.$/);
  });

  test('skips an unreachable Redis outside CI and fails it under CI=true', async () => {
    const skip = await requireService(redisService(UNREACHABLE_REDIS), { CI: 'false' });
    assert.deepEqual(skip, {
      available: false,
      action: 'skip',
      reason:
        'Redis not reachable at 127.0.0.1:1 (connect ECONNREFUSED); skipping. Start it or set TEST_REDIS_URL.',
    });
    const fail = await requireService(redisService(UNREACHABLE_REDIS), { CI: 'true' });
    assert.equal(!fail.available && fail.action, 'fail');
  });

  test('never shows the password of the URL', async () => {
    const leaky: Service = {
      name: 'Leaky',
      url: 'postgres://user:p%40ss@db.example:5432/x',
      address: 'db.example:5432',
      envVar: 'LEAKY_URL',
      probe: () => Promise.reject(new Error('could not log in as user with p@ss')),
    };
    const check = await requireService(leaky, {});
    assert.equal(check.available, false);
    assert.equal(
      check.reason,
      'Leaky not reachable at db.example:5432 (could not log in as user with ***); skipping. Start it or set LEAKY_URL.',
    );
  });

  test('runs when the probe succeeds', async () => {
    const up: Service = {
      name: 'Up',
      url: 'x://',
      address: 'x',
      envVar: 'X',
      probe: () => Promise.resolve(),
    };
    assert.deepEqual(await requireService(up, { CI: 'true' }), { available: true });
  });
});

test('isCi() is true only for CI=true', () => {
  assert.equal(isCi({ CI: 'true' }), true);
  assert.equal(isCi({ CI: 'false' }), false);
  assert.equal(isCi({}), false);
});

test('fileSlug() turns a test file path into a name fragment', () => {
  assert.equal(fileSlug('/repo/test/store/Store.Contract.test.ts'), 'store_contract');
  assert.equal(fileSlug('/repo/test/fixtures/pg-unreachable.fixture.ts'), 'pg_unreachable_fixture');
  assert.equal(fileSlug(''), 'test');
  assert.equal(fileSlug(`/${'x'.repeat(80)}.test.ts`).length, 30);
});

describe(
  'suites of a test file whose services are unreachable (child process)',
  { concurrency: true },
  () => {
    const fixture = fileURLToPath(new URL('fixtures/unreachable.fixture.ts', import.meta.url));
    const setup = fileURLToPath(new URL('setup.ts', import.meta.url));

    async function runFixture(ci: boolean): Promise<{ code: number | null; output: string }> {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TEST_PG_URL: UNREACHABLE_PG,
        TEST_REDIS_URL: UNREACHABLE_REDIS,
        CI: ci ? 'true' : undefined,
        // Set by the runner in its file subprocesses; inherited, it would make the child report in
        // the runner's internal format instead of running as a fresh `node --test`.
        NODE_TEST_CONTEXT: undefined,
      };
      const args = ['--import', setup, '--test', '--test-reporter=spec', fixture];
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', resolve);
      });
      // The process handle is released in the event loop's close phase, after 'close' is emitted;
      // wait for it so test/support/setup.ts does not report it as leaked.
      await setImmediatePromise();
      return { code, output };
    }

    test('outside CI: both suites are skipped with the reason and the run passes', async () => {
      const { code, output } = await runFixture(false);
      assert.equal(code, 0, output);
      assert.match(
        output,
        /▶ fixture postgres suite\n {2}﹣ needs PostgreSQL .*# PostgreSQL not reachable at 127\.0\.0\.1:1 \(connect ECONNREFUSED\); skipping\. Start it or set TEST_PG_URL\./,
      );
      assert.match(
        output,
        /▶ fixture redis suite\n {2}﹣ needs Redis .*# Redis not reachable at 127\.0\.0\.1:1 \(connect ECONNREFUSED\); skipping\./,
      );
      assert.doesNotMatch(output, /s3cret/);
    });

    test('with CI=true: both suites fail with the reason and the run fails', async () => {
      const { code, output } = await runFixture(true);
      assert.notEqual(code, 0, output);
      assert.match(output, /✖ needs PostgreSQL/);
      assert.match(output, /✖ needs Redis/);
      assert.match(
        output,
        /PostgreSQL not reachable at 127\.0\.0\.1:1 \(connect ECONNREFUSED\); failing because CI=true/,
      );
      assert.match(
        output,
        /Redis not reachable at 127\.0\.0\.1:1 \(connect ECONNREFUSED\); failing because CI=true/,
      );
      assert.doesNotMatch(output, /s3cret/);
    });
  },
);
