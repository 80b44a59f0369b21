import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CONFIG_KEY_NAMES, CONFIG_KEYS, loadConfig, resolveConfig } from '../../src/config/index.ts';
import type { ConfigKey, ConfigLayer } from '../../src/config/index.ts';
import { tempDir } from './temp-dir.ts';

const SECRET_A = 'a'.repeat(32);
const SECRET_B = 'b'.repeat(32);
const SECRET_C = 'c'.repeat(32);

// For every key: a value per layer (file, env, flag) and what each parses to. Values differ
// from layer to layer and from the default, so the result shows which layer won.
const LAYER_VALUES = {
  store: [['sqlite:./file.db', 'sqlite::memory:', 'postgres://h/db']],
  redisUrl: [['redis://file:6379', 'redis://env:6379', 'rediss://flag:6380']],
  host: [['file.local', '0.0.0.0', '::1']],
  port: [
    [1000, '2000', '3000'],
    [1000, 2000, 3000],
  ],
  agentId: [['urn:asap:agent:file', 'urn:asap:agent:env', 'urn:asap:agent:flag:sub']],
  url: [['http://file:8080', 'https://env', 'http://flag:9']],
  publicUrl: [['http://file', 'https://env', 'http://flag:9']],
  workerConcurrency: [
    [0, '5', '7'],
    [0, 5, 7],
  ],
  logLevel: [['debug', 'warn', 'trace']],
  logFormat: [['pretty', 'json', 'pretty']],
  // auth "none" in the middle so each layer's combination of auth and tokens is valid.
  auth: [['token', 'none', 'token']],
  tokens: [
    [
      [{ token: 'file-token', permissions: ['admin'] }],
      'env-token:tasks:read',
      'flag-token:tasks:read+tasks:write',
    ],
    [
      [{ token: 'file-token', permissions: ['admin'] }],
      [{ token: 'env-token', permissions: ['tasks:read'] }],
      [{ token: 'flag-token', permissions: ['tasks:read', 'tasks:write'] }],
    ],
  ],
  jwtSecret: [[SECRET_A, SECRET_B, SECRET_C]],
  jwksUrl: [['https://file/jwks', 'https://env/jwks', 'https://flag/jwks']],
  jwtIssuer: [['file-issuer', 'env-issuer', 'flag-issuer']],
  jwtAudience: [['file-audience', 'env-audience', 'flag-audience']],
  rateLimit: [
    ['1/s', '2/minute', '3/h'],
    [[{ limit: 1, windowMs: 1_000 }], [{ limit: 2, windowMs: 60_000 }], [{ limit: 3, windowMs: 3_600_000 }]],
  ],
  maxRequestBytes: [
    [2048, '4096', '8192'],
    [2048, 4096, 8192],
  ],
  requireNonce: [
    [true, 'no', 'YES'],
    [true, false, true],
  ],
  leaseMs: [
    [1000, '2000', '3000'],
    [1000, 2000, 3000],
  ],
  pollIntervalMs: [
    [10, '20', '30'],
    [10, 20, 30],
  ],
  shutdownTimeoutMs: [
    [0, '1', '2'],
    [0, 1, 2],
  ],
  templatesDir: [['./file-templates', './env-templates', './flag-templates']],
  handlers: [['./file-handlers.ts', './env-handlers.ts', './flag-handlers.ts']],
  otelExporter: [
    ['otlp', 'console', 'OTLP'],
    ['otlp', 'console', 'otlp'],
  ],
  otelEndpoint: [['http://file:4318/v1/traces', 'https://env/v1/traces', 'http://flag:4318/v1/traces']],
  otelServiceName: [['file-service', 'env-service', 'flag-service']],
  debug: [
    ['yes', 'false', '1'],
    [true, false, true],
  ],
} satisfies Record<ConfigKey, readonly [raw: readonly unknown[], parsed?: readonly unknown[]]>;

const LAYERS = ['file', 'env', 'flag'] as const;

function layerValue(key: ConfigKey, layer: number): { raw: unknown; parsed: unknown } {
  const [raw, parsed = raw] = LAYER_VALUES[key] as readonly [readonly unknown[], (readonly unknown[])?];
  return { raw: raw[layer], parsed: parsed[layer] };
}

function resolveWithLayers(t: TestContext, topLayer: ConfigLayer) {
  const upTo = topLayer === 'default' ? 0 : LAYERS.indexOf(topLayer) + 1;
  const fileValues = Object.fromEntries(CONFIG_KEY_NAMES.map((key) => [key, layerValue(key, 0).raw]));
  const env = Object.fromEntries(
    CONFIG_KEY_NAMES.map((key) => [CONFIG_KEYS[key].env, String(layerValue(key, 1).raw)]),
  );
  const flags = Object.fromEntries(CONFIG_KEY_NAMES.map((key) => [key, layerValue(key, 2).raw]));
  const cwd = tempDir(t, upTo >= 1 ? { 'baton.config.json': JSON.stringify(fileValues) } : {});
  return resolveConfig({ cwd, isTTY: false, env: upTo >= 2 ? env : {}, flags: upTo >= 3 ? flags : {} });
}

describe('layer precedence: defaults < file < env < flags, key by key', () => {
  test('with no file, environment or flags, every key has its default', (t) => {
    const { config, sources, file } = resolveWithLayers(t, 'default');
    assert.equal(file, undefined);
    assert.deepEqual(config, {
      store: 'sqlite:./data/baton.db',
      redisUrl: undefined,
      host: '127.0.0.1',
      port: 8080,
      agentId: 'urn:asap:agent:baton',
      url: undefined,
      publicUrl: undefined,
      workerConcurrency: 16,
      logLevel: 'info',
      logFormat: 'json',
      auth: 'none',
      tokens: undefined,
      jwtSecret: undefined,
      jwksUrl: undefined,
      jwtIssuer: undefined,
      jwtAudience: undefined,
      rateLimit: [
        { limit: 100, windowMs: 1_000 },
        { limit: 2000, windowMs: 60_000 },
      ],
      maxRequestBytes: 10_485_760,
      requireNonce: false,
      leaseMs: 30_000,
      pollIntervalMs: 1_000,
      shutdownTimeoutMs: 10_000,
      templatesDir: undefined,
      handlers: undefined,
      otelExporter: 'none',
      otelEndpoint: 'http://localhost:4318/v1/traces',
      otelServiceName: 'baton',
      debug: false,
    });
    for (const key of CONFIG_KEY_NAMES) assert.deepEqual(sources[key], { layer: 'default' }, key);
  });

  for (const [index, layer] of LAYERS.entries()) {
    test(`the ${layer} layer overrides the layers below it for every key`, (t) => {
      const { config, sources } = resolveWithLayers(t, layer);
      for (const key of CONFIG_KEY_NAMES) {
        assert.deepEqual(config[key], layerValue(key, index).parsed, key);
        assert.equal(sources[key].layer, layer, key);
      }
    });
  }

  test('sources name the variable, flag or file that set each value', (t) => {
    const cwd = tempDir(t, { 'baton.config.yaml': 'host: file.local\n' });
    const { sources, file } = resolveConfig({
      cwd,
      env: { BATON_PORT: '1' },
      flags: { logLevel: 'warn', leaseMs: 5000 },
    });
    assert.equal(file, join(cwd, 'baton.config.yaml'));
    assert.deepEqual(sources.host, { layer: 'file', name: 'baton.config.yaml' });
    assert.deepEqual(sources.port, { layer: 'env', name: 'BATON_PORT' });
    assert.deepEqual(sources.logLevel, { layer: 'flag', name: '--log-level' });
    assert.deepEqual(sources.leaseMs, { layer: 'flag', name: 'leaseMs' });
  });

  test('an empty environment variable counts as unset', (t) => {
    const cwd = tempDir(t, { 'baton.config.json': '{"port": 1234}' });
    assert.equal(loadConfig({ cwd, env: { BATON_PORT: '', BATON_CONFIG: '' } }).port, 1234);
  });

  test('a YAML key without a value counts as unset', (t) => {
    const cwd = tempDir(t, { 'baton.config.yaml': 'port:\nredisUrl:\n' });
    const config = loadConfig({ cwd, env: {} });
    assert.equal(config.port, 8080);
    assert.equal(config.redisUrl, undefined);
  });

  test('undefined flags are skipped (commander leaves absent options undefined)', (t) => {
    assert.equal(
      loadConfig({ cwd: tempDir(t), env: { BATON_PORT: '1' }, flags: { port: undefined } }).port,
      1,
    );
  });

  test('the log format defaults to pretty on a terminal and json otherwise', (t) => {
    const cwd = tempDir(t);
    assert.equal(loadConfig({ cwd, env: {}, isTTY: true }).logFormat, 'pretty');
    assert.equal(loadConfig({ cwd, env: {}, isTTY: false }).logFormat, 'json');
  });
});

describe('finding the config file', () => {
  for (const name of ['baton.config.json', 'baton.config.yaml', 'baton.config.yml']) {
    test(`reads ${name} from the working directory`, (t) => {
      const cwd = tempDir(t, { [name]: name.endsWith('.json') ? '{"port": 1111}' : 'port: 1111\n' });
      const { config, file } = resolveConfig({ cwd, env: {} });
      assert.equal(config.port, 1111);
      assert.equal(file, join(cwd, name));
    });
  }

  test('BATON_CONFIG names the file, relative to the working directory', (t) => {
    const cwd = tempDir(t, { 'custom.yaml': 'port: 2222\n', 'baton.config.json': '{"port": 1111}' });
    assert.equal(loadConfig({ cwd, env: { BATON_CONFIG: 'custom.yaml' } }).port, 2222);
  });

  test('an explicit file (--config) wins over BATON_CONFIG', (t) => {
    const cwd = tempDir(t, { 'a.json': '{"port": 1}', 'b.json': '{"port": 2}' });
    assert.equal(loadConfig({ cwd, env: { BATON_CONFIG: 'a.json' }, file: 'b.json' }).port, 2);
  });

  test('an empty YAML file sets nothing', (t) => {
    assert.equal(loadConfig({ cwd: tempDir(t, { 'baton.config.yaml': '' }), env: {} }).port, 8080);
  });
});

describe('the resolved configuration is deeply frozen', () => {
  test('assigning to it, its lists or their items throws', (t) => {
    const resolved = resolveConfig({
      cwd: tempDir(t),
      env: { BATON_AUTH: 'token', BATON_TOKENS: 'abc:admin' },
    });
    const config = resolved.config as unknown as Record<string, unknown>;
    assert.throws(() => {
      config.port = 1;
    }, TypeError);
    assert.throws(() => {
      (resolved.config.rateLimit as unknown as unknown[]).push({ limit: 1, windowMs: 1 });
    }, TypeError);
    assert.throws(() => {
      (resolved.config.tokens?.[0] as { token: string }).token = 'other';
    }, TypeError);
    assert.throws(() => {
      (resolved.config.tokens?.[0]?.permissions as string[]).push('tasks:read');
    }, TypeError);
    assert.throws(() => {
      (resolved.sources as Record<string, unknown>).port = { layer: 'flag' };
    }, TypeError);
    assert.equal(resolved.config.port, 8080);
  });
});
