// Redis for tests: one connection and one key prefix per test file (or suite) on the server named
// by TEST_REDIS_URL. Cleanup deletes only the keys under that prefix, so files can share one
// server and run in parallel.
//
//   import { describeRedis } from '../support/redis.ts';
//
//   describeRedis('rate limits (redis)', (redis) => {
//     test('counts', async () => {
//       await redis.client.incr(redis.key('hits'));
//     });
//   });
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { describeWithService, displayAddress, fileSlug, PROBE_TIMEOUT_MS, randomId } from './services.ts';
import type { Service } from './services.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The Redis server tests use: `TEST_REDIS_URL` or the local default. */
export function redisTestUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEST_REDIS_URL || DEFAULT_REDIS_URL;
}

/** The test Redis as a `Service` for `requireService()`: the probe connects and sends `PING`. */
export function redisService(url: string = redisTestUrl()): Service {
  return {
    name: 'Redis',
    url,
    address: displayAddress(url, 6379),
    envVar: 'TEST_REDIS_URL',
    probe: async () => {
      const client = await connectRedis(url, {
        connectTimeout: PROBE_TIMEOUT_MS,
        commandTimeout: PROBE_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        enableReadyCheck: false,
        disconnectTimeout: 100, // how long disconnect() waits for a silent server before destroying the socket
      });
      try {
        await client.ping();
      } finally {
        await closeRedis(client, { quit: false });
      }
    },
  };
}

export interface TestRedis {
  /** The server URL, for code under test that opens its own connections. */
  readonly url: string;
  /** A connected client for the test's own reads and writes. Closed by `cleanup()`. */
  readonly client: Redis;
  /** `baton:test:<file>:<random>:`; give it to the code under test as its key prefix. */
  readonly prefix: string;
  /** `prefix + name`. */
  key(name: string): string;
  /** Deletes every key under `prefix` (SCAN + UNLINK) and closes `client`. Returns how many keys it deleted. */
  cleanup(): Promise<number>;
}

export interface CreateTestRedisOptions {
  /** Name fragment after `baton:test:` (a file path is reduced to its base name); default: the running test file. */
  prefix?: string;
  /** Server URL; default `redisTestUrl()`. */
  url?: string;
}

/**
 * Connects to the test Redis and reserves a unique key prefix. Pair every call with `cleanup()`:
 *
 *   let redis: TestRedis;
 *   before(async () => { redis = await createTestRedis(); });
 *   after(() => redis.cleanup());
 *
 * Within a suite from `describeRedis()` the suite does this for you.
 */
export async function createTestRedis(options: CreateTestRedisOptions = {}): Promise<TestRedis> {
  const url = options.url ?? redisTestUrl();
  const prefix = `baton:test:${fileSlug(options.prefix)}:${randomId()}:`;
  const client = await connectRedis(url, { connectTimeout: PROBE_TIMEOUT_MS });
  let cleaned: Promise<number> | undefined;
  return {
    url,
    client,
    prefix,
    key: (name) => prefix + name,
    cleanup: () => (cleaned ??= deleteKeysThenClose(client, prefix)),
  };
}

async function deleteKeysThenClose(client: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  try {
    // The prefix holds only [a-z0-9_:], so it needs no glob escaping in MATCH.
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await closeRedis(client);
  }
  return deleted;
}

/** What a `describeRedis()` suite function receives. Read it inside hooks and tests only. */
export type RedisSuite = Omit<TestRedis, 'cleanup'>;

/**
 * `describe()` with its own Redis connection and key prefix (see the top of this file). The
 * connection exists from the suite's first `before()` to its last `after()`, which deletes the
 * prefix's keys and quits. When Redis is unreachable the suite is skipped, or fails under
 * `CI=true` (see `describeWithService`).
 *
 *   describeRedis('shared rate limit', (redis) => {
 *     test('…', async () => {
 *       const limiter = createLimiter({ url: redis.url, keyPrefix: redis.prefix });
 *       …
 *     });
 *   });
 */
export function describeRedis(name: string, fn: (redis: RedisSuite) => void): void {
  const url = redisTestUrl();
  describeWithService(name, redisService(url), (suite) => {
    let redis: TestRedis | undefined;
    const current = (): TestRedis => {
      if (!redis) throw new Error('describeRedis: the connection exists only inside hooks and tests');
      return redis;
    };

    before(async () => {
      redis = await createTestRedis({ prefix: suite.filePath, url });
    });
    fn({
      url,
      get client() {
        return current().client;
      },
      get prefix() {
        return current().prefix;
      },
      key: (name) => current().key(name),
    });
    // Declared after fn's hooks, so it runs after them (node:test runs after() hooks in order).
    after(async () => {
      await redis?.cleanup();
    });
  });
}

/**
 * Connects eagerly, so an unreachable server rejects here (with the socket's error) instead of
 * queueing commands. Never reconnects: a test that loses its server should fail, not wait.
 */
async function connectRedis(url: string, options: RedisOptions): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, ...options });
  let lastError: unknown;
  // Without an 'error' listener ioredis logs every connection error to the console.
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await client.connect();
  } catch (error) {
    // Once the status is 'end' the socket is gone; disconnect() then would only arm a timer.
    if (client.status !== 'end') client.disconnect();
    throw lastError ?? error; // connect() itself rejects with a bare "Connection is closed."
  }
  return client;
}

/** Sends QUIT (or, with `quit: false`, just closes the socket); resolves once the socket is closed. */
async function closeRedis(client: Redis, { quit = true } = {}): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise((resolve) => client.once('end', resolve));
  if (quit) await client.quit().catch(() => client.disconnect());
  else client.disconnect();
  await ended;
}
