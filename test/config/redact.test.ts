import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, redactConfig, redactUrl } from '../../src/config/index.ts';
import type { LoadConfigOptions } from '../../src/config/index.ts';
import { tempDir } from './temp-dir.ts';

describe('redactUrl', () => {
  const CASES: readonly (readonly [string, string])[] = [
    ['postgres://u:hunter2@h/db', 'postgres://u:[redacted]@h/db'],
    [
      'postgresql://u:hunter2@h:5432/db?sslmode=require',
      'postgresql://u:[redacted]@h:5432/db?sslmode=require',
    ],
    ['redis://:hunter2@cache:6379/0', 'redis://:[redacted]@cache:6379/0'],
    ['rediss://default:p%40ss@cache', 'rediss://default:[redacted]@cache'],
    // An unencoded @ in the password: URL parsing splits at the last @ of the authority.
    ['postgres://u:hun@ter2@h/db', 'postgres://u:[redacted]@h/db'],
    [
      'postgres://h/db?user=u&password=hunter2&sslmode=require',
      'postgres://h/db?user=u&password=[redacted]&sslmode=require',
    ],
    // Not a valid URL (a "/" in the password): hide up to the last @ rather than show part of it.
    ['postgres://u:hun/ter2@h/db', 'postgres://u:[redacted]@h/db'],
    ['postgres://u@h/db', 'postgres://u@h/db'],
    ['https://h/jwks', 'https://h/jwks'],
    ['sqlite:./data/baton.db', 'sqlite:./data/baton.db'],
    ['not a url', 'not a url'],
  ];
  for (const [url, expected] of CASES) {
    test(url, () => assert.equal(redactUrl(url), expected));
  }
});

describe('redactConfig', () => {
  test('hides tokens, the JWT secret and URL passwords, and keeps everything else', (t) => {
    const config = loadConfig({
      cwd: tempDir(t),
      env: {
        BATON_STORE: 'postgres://u:hunter2@h/db',
        BATON_REDIS_URL: 'redis://:redispw@cache:6379',
        BATON_AUTH: 'token',
        BATON_TOKENS: 's3cret:tasks:read+tasks:write,ops:admin',
        BATON_JWT_SECRET: 'jwt-secret-that-is-long-enough-1234',
      },
    });
    const redacted = redactConfig(config);
    assert.deepEqual(redacted, {
      ...config,
      store: 'postgres://u:[redacted]@h/db',
      redisUrl: 'redis://:[redacted]@cache:6379',
      tokens: [
        { token: '[redacted]', permissions: ['tasks:read', 'tasks:write'] },
        { token: '[redacted]', permissions: ['admin'] },
      ],
      jwtSecret: '[redacted]',
    });
    const printed = JSON.stringify(redacted);
    for (const secret of ['hunter2', 'redispw', 's3cret', '"ops"', 'jwt-secret'])
      assert.ok(!printed.includes(secret), secret);
    assert.equal(config.store, 'postgres://u:hunter2@h/db', 'the original is untouched');
    assert.ok(Object.isFrozen(redacted));
  });
});

describe('error messages never show a secret', () => {
  function errorText(options: LoadConfigOptions): string {
    try {
      loadConfig(options);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    assert.fail('expected a ConfigError');
  }

  const SECRET = 'TOPSECRETVALUE';
  const CASES: readonly (readonly [string, LoadConfigOptions])[] = [
    ['a token with an unknown permission', { env: { BATON_TOKENS: `${SECRET}:tasks:reed` } }],
    ['a token without permissions', { env: { BATON_TOKENS: SECRET } }],
    ['a token that contains a colon', { env: { BATON_TOKENS: `ab:${SECRET}:x` } }],
    ['a repeated token', { env: { BATON_TOKENS: `${SECRET}:admin,${SECRET}:admin` } }],
    ['a short JWT secret', { env: { BATON_JWT_SECRET: SECRET } }],
    ['a bad JWT secret flag', { flags: { jwtSecret: SECRET } }],
    ['a Redis URL with the wrong scheme', { env: { BATON_REDIS_URL: `http://u:${SECRET}@h` } }],
    ['a store URL that does not parse', { env: { BATON_STORE: `mysql://u:${SECRET}@h/db` } }],
  ];
  for (const [name, options] of CASES) {
    test(name, (t) => {
      const message = errorText({ env: {}, ...options, cwd: tempDir(t) });
      assert.ok(!message.includes(SECRET), message);
    });
  }

  const FILES: readonly (readonly [string, Record<string, string>])[] = [
    [
      'a token list entry in a file',
      { 'baton.config.yaml': `tokens:\n  - token: ${SECRET}\n    permissions: [nope]\n` },
    ],
    ['malformed JSON starting with a secret', { 'baton.config.json': SECRET }],
    ['malformed JSON around a secret', { 'baton.config.json': `{"jwtSecret": "${SECRET}" "port": 1}` }],
    ['malformed YAML around a secret', { 'baton.config.yaml': `jwtSecret: "${SECRET}\n` }],
  ];
  for (const [name, files] of FILES) {
    test(name, (t) => {
      const message = errorText({ env: {}, cwd: tempDir(t, files) });
      assert.ok(!message.includes(SECRET), message);
    });
  }
});
