import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONFIG_KEY_NAMES,
  CONFIG_KEYS,
  ConfigError,
  isConfigError,
  loadConfig,
} from '../../src/config/index.ts';
import type { ConfigKey, LoadConfigOptions } from '../../src/config/index.ts';
import { tempDir } from './temp-dir.ts';

/** The ConfigError thrown by loadConfig(options); fails the test when it does not throw one. */
function configError(options: LoadConfigOptions): ConfigError {
  try {
    loadConfig(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected loadConfig to throw a ConfigError');
}

function messages(options: LoadConfigOptions): string[] {
  return configError(options).issues.map((issue) => issue.message);
}

// Bad values for every key, as environment variables (typed, so a new key needs cases here).
const BAD_VALUES: Record<ConfigKey, readonly string[]> = {
  store: ['mysql://h/db', 'sqlite:', './baton.db', 'postgres:/h/db'],
  redisUrl: ['http://h:6379', 'h:6379', 'redis:', 'redis:h'],
  host: ['my host', 'http://h', 'h/x'],
  port: ['abc', '-1', '65536', '80.5', '1e3', '0x10'],
  agentId: [
    'urn:asap:agent:Baton',
    'urn:asap:agent:',
    'baton',
    'urn:asap:agent:a:b:c',
    'urn:asap:agent:a_b',
    `urn:asap:agent:${'a'.repeat(242)}`,
  ],
  url: ['ftp://h', 'localhost:8080', 'http//h'],
  publicUrl: ['ftp://h', 'localhost:8080', 'http//h'],
  workerConcurrency: ['-1', '10001', 'many'],
  logLevel: ['verbose', 'information'],
  logFormat: ['text'],
  auth: ['basic', 'tokens'],
  tokens: ['s3cret', 's3cret:tasks:reed', 's3cret:', 'a b:admin', 'x:admin,x:admin', 'x:admin,', ':admin'],
  jwtSecret: ['too-short'],
  jwksUrl: ['file:///etc/keys.json', 'keys.json'],
  jwtIssuer: ['   '],
  jwtAudience: ['   '],
  rateLimit: ['100', '0/second', '100/day', '100/second;', 'ten/second', '1.5/s', '100/second,2000/minute'],
  maxRequestBytes: ['1023', '1073741825'],
  requireNonce: ['maybe', 'on'],
  leaseMs: ['999', '3600001'],
  pollIntervalMs: ['9', '60001'],
  shutdownTimeoutMs: ['-1', '600001'],
  templatesDir: ['  '],
  handlers: ['  '],
  otelExporter: ['jaeger', 'zipkin'],
  otelEndpoint: ['grpc://h:4317', 'localhost:4318/v1/traces'],
  otelServiceName: ['   '],
  debug: ['enabled'],
};

describe('every key rejects bad values, naming the variable and what it accepts', () => {
  for (const key of CONFIG_KEY_NAMES) {
    const { env, accepts } = CONFIG_KEYS[key];
    for (const value of BAD_VALUES[key]) {
      test(`${env}=${JSON.stringify(value)}`, (t) => {
        const [message = '', ...others] = messages({ cwd: tempDir(t), env: { [env]: value } });
        assert.deepEqual(others, []);
        assert.ok(message.startsWith(`${env}: `), message);
        assert.ok(message.includes(`expected ${accepts}, got `), message);
        const secret = 'secret' in CONFIG_KEYS[key];
        assert.ok(message.endsWith(secret ? 'got [redacted]' : `got ${JSON.stringify(value)}`), message);
      });
    }
  }

  test('the message reads "KEY: expected …, got …"', (t) => {
    assert.deepEqual(messages({ cwd: tempDir(t), env: { BATON_PORT: 'abc' } }), [
      'BATON_PORT: expected an integer from 0 to 65535, got "abc"',
    ]);
  });

  test('a message says which entry of a list is wrong', (t) => {
    const [rate, tokens] = messages({
      cwd: tempDir(t),
      env: { BATON_RATE_LIMIT: '10/s;10/fortnight', BATON_TOKENS: 'a:admin,b:tasks:read+bogus' },
    });
    assert.match(rate ?? '', /^BATON_RATE_LIMIT: rule 2 is not LIMIT\/WINDOW; expected/);
    assert.match(tokens ?? '', /^BATON_TOKENS: permission 2 of entry 2 is not a known permission; expected/);
  });
});

describe('accepted forms', () => {
  const ACCEPTED: readonly (readonly [string, string, unknown])[] = [
    ['BATON_STORE', 'sqlite::memory:', 'sqlite::memory:'],
    [
      'BATON_STORE',
      'postgresql://u:p@db:5432/baton?sslmode=require',
      'postgresql://u:p@db:5432/baton?sslmode=require',
    ],
    ['BATON_REDIS_URL', 'rediss://:pw@cache:6380/1', 'rediss://:pw@cache:6380/1'],
    ['BATON_AGENT_ID', 'urn:asap:agent:billing:eu-1', 'urn:asap:agent:billing:eu-1'],
    ['BATON_AGENT_ID', `urn:asap:agent:${'a'.repeat(241)}`, `urn:asap:agent:${'a'.repeat(241)}`],
    ['BATON_PORT', ' 0 ', 0],
    ['BATON_LOG_LEVEL', 'DEBUG', 'debug'],
    ['BATON_REQUIRE_NONCE', 'Yes', true],
    ['BATON_REQUIRE_NONCE', '0', false],
    [
      'BATON_RATE_LIMIT',
      ' 10 / s ; 20/minute;5/H ',
      [
        { limit: 10, windowMs: 1_000 },
        { limit: 20, windowMs: 60_000 },
        { limit: 5, windowMs: 3_600_000 },
      ],
    ],
    [
      'BATON_TOKENS',
      'a:admin, b:tasks:read+tasks:write',
      [
        { token: 'a', permissions: ['admin'] },
        { token: 'b', permissions: ['tasks:read', 'tasks:write'] },
      ],
    ],
  ];
  for (const [env, value, expected] of ACCEPTED) {
    test(`${env}=${JSON.stringify(value)}`, (t) => {
      const key = CONFIG_KEY_NAMES.find((name) => CONFIG_KEYS[name].env === env) ?? 'store';
      assert.deepEqual(loadConfig({ cwd: tempDir(t), env: { [env]: value } })[key], expected);
    });
  }

  test('a config file may list tokens as objects', (t) => {
    const cwd = tempDir(t, {
      'baton.config.yaml': 'tokens:\n  - token: abc\n    permissions: [admin, tasks:read]\n',
    });
    assert.deepEqual(loadConfig({ cwd, env: {} }).tokens, [
      { token: 'abc', permissions: ['admin', 'tasks:read'] },
    ]);
  });
});

describe('messages name the key as the user wrote it', () => {
  test('a config file key is named with the file', (t) => {
    const cwd = tempDir(t, { 'baton.config.yaml': 'port: abc\nhost: [a, b]\nstore: { url: x }\n' });
    assert.deepEqual(messages({ cwd, env: {} }), [
      'port in baton.config.yaml: expected an integer from 0 to 65535, got "abc"',
      'host in baton.config.yaml: expected a host name or IP address, got a list',
      'store in baton.config.yaml: expected sqlite:PATH, sqlite::memory: or a URL starting with postgres:// or postgresql://, got a mapping',
    ]);
  });

  test('numbers from a JSON file are shown as numbers', (t) => {
    const cwd = tempDir(t, { 'baton.config.json': '{"port": 70000}' });
    assert.deepEqual(messages({ cwd, env: {} }), [
      'port in baton.config.json: expected an integer from 0 to 65535, got 70000',
    ]);
  });

  test('a flag is named as typed; a key without a flag by its name', (t) => {
    assert.deepEqual(messages({ cwd: tempDir(t), env: {}, flags: { port: '', leaseMs: '5' } }), [
      '--port: expected an integer from 0 to 65535, got ""',
      'leaseMs: expected an integer from 1000 to 3600000, got "5"',
    ]);
  });
});

describe('unknown keys and variables are rejected', () => {
  test('an unknown config file key, with a suggestion when it looks like a typo', (t) => {
    const cwd = tempDir(t, { 'baton.config.yaml': 'prot: 1\nlistenEverywhere: true\n' });
    const [typo, unknown] = messages({ cwd, env: {} });
    assert.equal(typo, 'prot in baton.config.yaml: unknown configuration key (did you mean port?)');
    assert.match(
      unknown ?? '',
      /^listenEverywhere in baton.config.yaml: unknown configuration key; known keys: store, /,
    );
  });

  test('an unknown BATON_ variable, with a suggestion when it looks like a typo', (t) => {
    // Variables are reported in name order, whatever the order of the environment.
    const [unknown, typo] = messages({ cwd: tempDir(t), env: { BATON_PROT: '1', BATON_NOT_A_THING: 'x' } });
    assert.equal(typo, 'BATON_PROT: unknown configuration variable (did you mean BATON_PORT?)');
    assert.match(
      unknown ?? '',
      /^BATON_NOT_A_THING: unknown configuration variable; known variables: BATON_STORE, /,
    );
  });

  test('BATON_CONFIG and variables without the BATON_ prefix are not configuration keys', (t) => {
    const cwd = tempDir(t, { 'x.json': '{}' });
    assert.equal(
      loadConfig({ cwd, env: { BATON_CONFIG: 'x.json', PATH: '/bin', baton_port: 'x' } }).port,
      8080,
    );
  });
});

describe('config file problems', () => {
  const CASES: readonly (readonly [string, Record<string, string>, LoadConfigOptions, RegExp])[] = [
    [
      'a named file that is missing',
      {},
      { file: 'nope.yaml' },
      /^nope\.yaml: config file not found \(looked for .*nope\.yaml\)$/,
    ],
    [
      'a missing file named by BATON_CONFIG',
      {},
      { env: { BATON_CONFIG: 'gone.json' } },
      /^gone\.json: config file not found/,
    ],
    [
      'malformed JSON',
      { 'baton.config.json': '{"port": 1,}' },
      {},
      /^baton\.config\.json: cannot read config file: invalid JSON: Expected double-quoted property name/,
    ],
    [
      'malformed YAML',
      { 'baton.config.yaml': 'port: 1\nhost: a: b\n' },
      {},
      /^baton\.config\.yaml: cannot read config file: invalid YAML at line 2: /,
    ],
    [
      'duplicate YAML keys',
      { 'baton.config.yaml': 'port: 1\nport: 2\n' },
      {},
      /invalid YAML at line 2: Map keys must be unique/,
    ],
    [
      'a list at the top level',
      { 'baton.config.yaml': '- port\n' },
      {},
      /expected the config file to hold a mapping/,
    ],
    [
      'an unknown extension',
      { 'baton.toml': 'port = 1' },
      { file: 'baton.toml' },
      /expected a \.json, \.yaml or \.yml file/,
    ],
    [
      'two config files in the working directory',
      { 'baton.config.json': '{}', 'baton.config.yml': '' },
      {},
      /^baton\.config\.json, baton\.config\.yml: several config files in .*; keep one, or choose with --config or BATON_CONFIG$/,
    ],
  ];
  for (const [name, files, options, expected] of CASES) {
    test(name, (t) => {
      const issues = messages({ env: {}, ...options, cwd: tempDir(t, files) });
      assert.equal(issues.length, 1, issues.join('\n'));
      assert.match(issues[0] ?? '', expected);
    });
  }
});

describe('settings that do not work together', () => {
  const CASES: readonly (readonly [Record<string, string>, string | undefined])[] = [
    [{ BATON_AUTH: 'token' }, 'BATON_AUTH: auth "token" needs tokens (BATON_TOKENS)'],
    [{ BATON_AUTH: 'jwt' }, 'BATON_AUTH: auth "jwt" needs exactly one of jwtSecret'],
    [
      { BATON_AUTH: 'jwt', BATON_JWT_SECRET: 'x'.repeat(32), BATON_JWKS_URL: 'https://idp/jwks' },
      'BATON_AUTH: auth "jwt"',
    ],
    [{ BATON_AUTH: 'jwt', BATON_JWKS_URL: 'https://idp/jwks' }, undefined],
    [{ BATON_AUTH: 'token', BATON_TOKENS: 'abc:admin' }, undefined],
  ];
  for (const [env, expected] of CASES) {
    test(`${JSON.stringify(env)} ${expected === undefined ? 'is fine' : 'is rejected'}`, (t) => {
      if (expected === undefined) assert.doesNotThrow(() => loadConfig({ cwd: tempDir(t), env }));
      else assert.ok(messages({ cwd: tempDir(t), env })[0]?.startsWith(expected));
    });
  }
});

describe('all problems are reported together', () => {
  test('from every layer, including values a higher layer overrides', (t) => {
    const cwd = tempDir(t, { 'baton.config.yaml': 'port: abc\nprot: 1\n' });
    const error = configError({
      cwd,
      env: { BATON_PORT: '9000', BATON_LOG_LEVEL: 'loud' },
      flags: { host: 'a b' },
    });
    assert.equal(error.code, 'config_invalid');
    assert.ok(isConfigError(error));
    assert.deepEqual(
      error.issues.map((issue) => [issue.where, issue.key]),
      [
        ['prot in baton.config.yaml', undefined],
        ['port in baton.config.yaml', 'port'],
        ['BATON_LOG_LEVEL', 'logLevel'],
        ['--host', 'host'],
      ],
    );
    assert.equal(error.message.split('\n')[0], 'invalid configuration:');
    for (const issue of error.issues) assert.ok(error.message.includes(`  - ${issue.message}`));
  });

  test('a broken file does not hide problems in the environment', (t) => {
    const cwd = tempDir(t, { 'baton.config.json': '{' });
    assert.equal(messages({ cwd, env: { BATON_PORT: 'x' } }).length, 2);
  });

  test('isConfigError recognises the code, not the class', () => {
    assert.ok(isConfigError(Object.assign(new Error('x'), { code: 'config_invalid' })));
    assert.ok(!isConfigError(new Error('x')));
    assert.ok(!isConfigError({ code: 'config_invalid' }));
  });
});
