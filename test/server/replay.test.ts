// The in-memory nonce store: a nonce is refused while it lives, accepted again once expired, and
// expired nonces leave the map as time passes, whatever its size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryNonceStore } from '../../src/server/index.ts';

function clockAt(start: number) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

test('a nonce is refused within its TTL and accepted again after it', () => {
  const clock = clockAt(1_000);
  const store = new MemoryNonceStore({ now: clock.now });
  assert.equal(store.checkAndMark('n1', 100), true);
  assert.equal(store.checkAndMark('n1', 100), false);
  clock.advance(99);
  assert.equal(store.checkAndMark('n1', 100), false);
  clock.advance(1);
  assert.equal(store.checkAndMark('n1', 100), true);
  assert.equal(store.checkAndMark('n1', 100), false);
});

test('expired nonces are dropped as time passes, a live one is kept', () => {
  const clock = clockAt(0);
  const store = new MemoryNonceStore({ now: clock.now });
  for (let i = 0; i < 100_000; i++) store.checkAndMark(`old-${i}`, 1_000);
  clock.advance(500);
  store.checkAndMark('young', 1_000);
  assert.equal(store.size, 100_001);
  clock.advance(500);
  assert.equal(store.checkAndMark('probe', 1_000), true);
  assert.equal(store.size, 2, 'the 100,000 old nonces are gone; young and probe remain');
  assert.equal(store.checkAndMark('young', 1_000), false);
});

test('a nonce marked with a longer TTL does not keep expired ones alive for checks', () => {
  const clock = clockAt(0);
  const store = new MemoryNonceStore({ now: clock.now });
  store.checkAndMark('long', 10_000);
  store.checkAndMark('short', 100);
  clock.advance(100);
  assert.equal(store.checkAndMark('short', 100), true, 'expired, so accepted again');
  assert.equal(store.checkAndMark('long', 10_000), false);
});
