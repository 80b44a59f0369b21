import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newTaskId, ulid } from '../../src/util/ids.ts';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

test('ulid: 26 Crockford base32 characters whose first 10 encode the time', () => {
  const id = ulid(1_700_000_000_000);
  assert.match(id, ULID);
  const time = [...id.slice(0, 10)].reduce(
    (value, char) => value * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(char),
    0,
  );
  assert.equal(time, 1_700_000_000_000);
});

test('ulid is strictly increasing within a millisecond and across them, so ids sort in creation order', () => {
  const ids = Array.from({ length: 2000 }, (_, i) => ulid(1_800_000_000_000 + Math.floor(i / 500)));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

test('task ids follow the ASAP convention task_<ULID>', () => {
  const id = newTaskId();
  assert.match(id, /^task_[0-9A-HJKMNP-TV-Z]{26}$/);
});
