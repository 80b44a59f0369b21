// The Redis helper against the real server: skipped when it is unreachable, failed under CI.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createTestRedis, describeRedis } from './redis.ts';

describeRedis('describeRedis', (redis) => {
  test('gives the suite a connected client and a unique key prefix', async () => {
    assert.match(redis.prefix, /^baton:test:redis:[0-9a-f]{10}:$/);
    assert.equal(redis.key('hits'), `${redis.prefix}hits`);
    assert.equal(await redis.client.incr(redis.key('hits')), 1);
  });

  test('cleanup() deletes every key under its prefix and nothing else, then closes its client', async () => {
    const other = await createTestRedis({ prefix: 'other' });
    assert.match(other.prefix, /^baton:test:other:[0-9a-f]{10}:$/);
    assert.notEqual(other.prefix, redis.prefix);

    // More keys than one SCAN batch holds, so cleanup has to follow the cursor.
    const many = Array.from({ length: 2500 }, (_, i) => [other.key(`k${i}`), 'v']).flat();
    await other.client.mset(...many);
    await redis.client.set(redis.key('mine'), 'keep');
    const outside = `baton:test:outside:${randomBytes(5).toString('hex')}`;
    const lookalike = other.prefix.slice(0, -1); // same text without the trailing ':'
    await redis.client.mset(outside, 'keep', lookalike, 'keep');
    try {
      assert.equal(await other.cleanup(), 2500);
      assert.equal(other.client.status, 'end');
      assert.equal(await other.cleanup(), 2500, 'a second cleanup() returns the first result');
      assert.equal(await redis.client.exists(other.key('k0'), other.key('k1234'), other.key('k2499')), 0);
      assert.equal(await redis.client.exists(redis.key('mine'), outside, lookalike), 3);
    } finally {
      await redis.client.unlink(outside, lookalike);
    }
  });
});
