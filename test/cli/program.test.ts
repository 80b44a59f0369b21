import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import { buildProgram, runCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/context.ts';
import { tempDir } from '../config/temp-dir.ts';
import { runCaptured } from './run-cli.ts';

const run = runCaptured;

function silentIo(cwd: string): CliIo {
  const sink = { write: () => true };
  return { stdout: sink, stderr: sink, env: {}, cwd };
}

describe('baton (in-process)', () => {
  test('buildProgram registers the config command and the global options', (t) => {
    const program = buildProgram(silentIo(tempDir(t)));
    assert.equal(program.name(), 'baton');
    assert.ok(program.commands.some((command) => command.name() === 'config'));
    const flags = program.options.map((option) => option.long);
    for (const flag of [
      '--config',
      '--store',
      '--redis-url',
      '--host',
      '--port',
      '--concurrency',
      '--log-level',
      '--log-format',
      '--auth',
    ]) {
      assert.ok(flags.includes(flag), flag);
    }
  });

  test('--version prints the package version', async (t) => {
    assert.deepEqual(await run(['--version'], tempDir(t)), {
      code: 0,
      stdout: `${packageJson.version}\n`,
      stderr: '',
    });
  });

  test('--help lists the global options, the commands and the exit codes', async (t) => {
    const { code, stdout } = await run(['--help'], tempDir(t));
    assert.equal(code, 0);
    for (const text of [
      'Usage: baton',
      '--port <port>',
      '[env BATON_PORT]',
      'config [options]',
      'Exit codes:',
    ]) {
      assert.ok(stdout.includes(text), text);
    }
  });

  test('config prints each key, its redacted value and where it came from', async (t) => {
    const cwd = tempDir(t, { 'baton.config.yaml': 'host: 0.0.0.0\nlogLevel: debug\n' });
    const { code, stdout, stderr } = await run(['config', '--log-level', 'warn'], cwd, {
      BATON_STORE: 'postgres://u:hunter2@h/db',
    });
    assert.equal(stderr, '');
    assert.equal(code, 0);
    const lines = stdout.split('\n');
    assert.equal(lines[0], `config file: ${join(cwd, 'baton.config.yaml')}`);
    assert.match(lines[2] ?? '', /^KEY +VALUE +SOURCE$/);
    const row = (key: string): string[] =>
      (lines.find((line) => line.startsWith(`${key} `)) ?? '').split(/ {2,}/);
    assert.deepEqual(row('store'), ['store', 'postgres://u:[redacted]@h/db', 'env BATON_STORE']);
    assert.deepEqual(row('host'), ['host', '0.0.0.0', 'file baton.config.yaml']);
    assert.deepEqual(row('logLevel'), ['logLevel', 'warn', 'flag --log-level']);
    assert.deepEqual(row('port'), ['port', '8080', 'default']);
    assert.deepEqual(row('redisUrl'), ['redisUrl', '(unset)', 'default']);
    assert.ok(!stdout.includes('hunter2'));
  });

  test('config --json prints the redacted configuration as JSON', async (t) => {
    const { code, stdout } = await run(
      ['config', '--json', '--port', '9000', '--auth', 'token'],
      tempDir(t),
      {
        BATON_TOKENS: 's3cret:tasks:read',
        BATON_JWT_SECRET: 'x'.repeat(40),
      },
    );
    assert.equal(code, 0);
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(printed.port, 9000);
    assert.equal(printed.auth, 'token');
    assert.deepEqual(printed.tokens, [{ token: '[redacted]', permissions: ['tasks:read'] }]);
    assert.equal(printed.jwtSecret, '[redacted]');
    assert.ok(!stdout.includes('s3cret') && !stdout.includes('xxxx'));
  });

  test('--config reads the named file', async (t) => {
    const cwd = tempDir(t, { 'other.json': '{"port": 4321}' });
    const { stdout } = await run(['--config', 'other.json', 'config', '--json'], cwd);
    assert.equal((JSON.parse(stdout) as { port: number }).port, 4321);
  });

  test('config --docs prints the key reference, even when the configuration is invalid', async (t) => {
    const { code, stdout } = await run(['config', '--docs'], tempDir(t), { BATON_PORT: 'abc' });
    assert.equal(code, 0);
    assert.ok(stdout.startsWith('| env | file key | flag | default | meaning |\n'));
  });

  test('an invalid configuration exits 2 with every problem and no stack trace', async (t) => {
    const { code, stdout, stderr } = await run(['config', '--port', 'abc'], tempDir(t), {
      BATON_LOG_LEVEL: 'loud',
    });
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.ok(stderr.startsWith('baton: invalid configuration:\n'), stderr);
    assert.ok(stderr.includes('  - --port: expected an integer from 0 to 65535, got "abc"\n'), stderr);
    assert.ok(stderr.includes('  - BATON_LOG_LEVEL: expected one of fatal'), stderr);
    assert.ok(!/\n\s+at /.test(stderr), stderr);
  });

  test('a missing --config file exits 2 and names it', async (t) => {
    const { code, stderr } = await run(['config', '--config', 'missing.yaml'], tempDir(t));
    assert.equal(code, 2);
    assert.match(stderr, /missing\.yaml: config file not found/);
  });

  test('an unexpected error exits 1 with its message; debug mode adds the stack trace', async (t) => {
    const cwd = tempDir(t);
    for (const debug of [false, true]) {
      let stderr = '';
      const failingStdout = {
        write: (): never => {
          throw new Error('stdout is gone');
        },
      };
      const code = await runCli(['config'], {
        stdout: failingStdout,
        stderr: { write: (text: string) => (stderr += text) },
        env: { BATON_DEBUG: String(debug) },
        cwd,
      });
      assert.equal(code, 1);
      if (debug) assert.match(stderr, /^baton: Error: stdout is gone\n\s+at /);
      else assert.equal(stderr, 'baton: stdout is gone\n');
    }
  });

  const USAGE_ERRORS: readonly (readonly [string, readonly string[], readonly string[]])[] = [
    ['an unknown command', ['confg'], ["unknown command 'confg'", 'Did you mean config?', 'baton --help']],
    ['an unknown flag', ['config', '--prot', '1'], ["unknown option '--prot'", 'Did you mean --port?']],
    ['an unexpected argument', ['config', 'extra'], ['too many arguments']],
    ['--json with --docs', ['config', '--json', '--docs'], ["'--docs' cannot be used with option '--json'"]],
    ['no command', [], ['Usage: baton']],
  ];
  for (const [name, args, expected] of USAGE_ERRORS) {
    test(`${name} exits 2 with a helpful message`, async (t) => {
      const { code, stdout, stderr } = await run(args, tempDir(t));
      assert.equal(code, 2);
      assert.equal(stdout, '');
      for (const text of expected) assert.ok(stderr.includes(text), `${text} in ${stderr}`);
    });
  }
});
