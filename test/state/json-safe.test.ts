import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeJsonSafe, encodeJsonSafe } from '../../src/state/json-safe.ts';
import { isBatonError } from '../../src/util/errors.ts';

/** Encodes, goes through JSON text as a store would, decodes. */
function roundTrip(value: unknown): unknown {
  return decodeJsonSafe(JSON.parse(JSON.stringify(encodeJsonSafe(value))));
}

/** Asserts `fn` throws a validation error whose message matches. */
function assertInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isBatonError(error), `expected a BatonError, got ${String(error)}`);
    assert.equal(error.code, 'validation_failed');
    assert.match(error.message, message);
    return true;
  });
}

describe('encodeJsonSafe / decodeJsonSafe', () => {
  test('plain JSON values pass through unchanged', () => {
    const value = { a: 1, b: 'two', c: [true, false, null], d: { e: 1.5, f: [] }, g: '', h: {} };
    assert.deepEqual(encodeJsonSafe(value), value);
    assert.deepEqual(roundTrip(value), value);
    for (const scalar of [0, -1.25, 'x', true, null, 1e308, Number.MIN_VALUE])
      assert.equal(roundTrip(scalar), scalar);
  });

  test('Date, Map, Set and BigInt come back as themselves', () => {
    const when = new Date('2024-05-06T07:08:09.123Z');
    assert.deepEqual(encodeJsonSafe(when), { $date: '2024-05-06T07:08:09.123Z' });
    assert.deepEqual(encodeJsonSafe(12345678901234567890n), { $bigint: '12345678901234567890' });
    assert.deepEqual(encodeJsonSafe(new Set([1, 'a'])), { $set: [1, 'a'] });
    assert.deepEqual(encodeJsonSafe(new Map([['k', 1]])), { $map: [['k', 1]] });

    const back = roundTrip({ when, big: -42n, tags: new Set(['x', 'y']), index: new Map([[1, 'one']]) });
    assert.deepEqual(back, { when, big: -42n, tags: new Set(['x', 'y']), index: new Map([[1, 'one']]) });
    assert.ok((back as { when: unknown }).when instanceof Date);
  });

  test('dates far from now and invalid dates survive', () => {
    const far = new Date(8.64e15);
    const past = new Date(-8.64e15);
    assert.deepEqual(roundTrip([far, past, new Date(0)]), [far, past, new Date(0)]);
    const invalid = roundTrip(new Date(Number.NaN));
    assert.ok(invalid instanceof Date && Number.isNaN(invalid.getTime()));
  });

  test('NaN, ±Infinity, -0 and undefined survive where JSON would lose them', () => {
    const value = {
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      ninf: Number.NEGATIVE_INFINITY,
      negZero: -0,
      missing: undefined,
      list: [undefined, 1, Number.NaN],
    };
    const back = roundTrip(value) as typeof value;
    assert.deepStrictEqual(back, value);
    assert.ok(Object.hasOwn(back, 'missing'));
    assert.ok(Object.is(back.negZero, -0));
    assert.equal(roundTrip(undefined), undefined);
  });

  test('nested values of every kind round-trip', () => {
    const value = {
      level1: {
        maps: new Map<unknown, unknown>([
          [new Date(1), new Set([1n, { deep: new Map([['x', [Number.NaN]]]) }])],
          [{ objectKey: true }, [new Date(2), undefined]],
        ]),
        sets: [new Set([new Set([new Set(['innermost'])])])],
      },
    };
    assert.deepStrictEqual(roundTrip(value), value);
  });

  test('user objects that look like tags round-trip unchanged', () => {
    const lookalikes = [
      { $date: '2024-01-01T00:00:00.000Z' },
      { $map: [['a', 1]] },
      { $set: [1] },
      { $bigint: '1' },
      { $number: 'NaN' },
      { $undefined: true },
      { $escape: { $date: 'x' } },
      { $custom: 'a future tag' },
      { $date: 'not a date', other: 1 },
      { nested: { $set: 'not an array' } },
    ];
    for (const value of lookalikes) assert.deepStrictEqual(roundTrip(value), value, JSON.stringify(value));
    assert.deepEqual(encodeJsonSafe({ $date: 'x' }), { $escape: { $date: 'x' } });
    // Two keys cannot be a tag, so nothing is escaped.
    assert.deepEqual(encodeJsonSafe({ $date: 'x', other: 1 }), { $date: 'x', other: 1 });
  });

  test('a "__proto__" key stays an own property and never becomes the prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const back = roundTrip(value) as Record<string, unknown>;
    assert.ok(Object.hasOwn(back, '__proto__'));
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.equal((back as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(back, '__proto__')?.value, { polluted: true });
  });

  test('objects with toJSON are stored as what toJSON returns; null-prototype objects as plain ones', () => {
    const money = { toJSON: () => ({ amount: '1.10', currency: 'EUR' }) };
    assert.deepEqual(roundTrip({ money }), { money: { amount: '1.10', currency: 'EUR' } });
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    assert.deepEqual(roundTrip(bare), { a: 1 });
  });

  test('shared (non-cyclic) references are stored twice, not refused', () => {
    const shared = { n: 1 };
    assert.deepEqual(roundTrip({ a: shared, b: [shared, shared] }), { a: { n: 1 }, b: [{ n: 1 }, { n: 1 }] });
  });

  test('functions, symbols, cycles and class instances are validation errors naming the path', () => {
    assertInvalid(() => encodeJsonSafe({ a: { fn: () => 1 } }, 'data'), /data\.a\.fn is a function/);
    assertInvalid(() => encodeJsonSafe({ list: [1, Symbol('s')] }, 'data'), /data\.list\[1\] is a symbol/);
    assertInvalid(() => encodeJsonSafe({ [Symbol('k')]: 1 }), /symbol key/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    assertInvalid(() => encodeJsonSafe(cyclic, 'data'), /data\.self\.back refers back to itself/);
    const loop: unknown[] = [];
    loop.push(new Map([['k', loop]]));
    assertInvalid(() => encodeJsonSafe(loop), /cycle/);
    class Point {
      x = 1;
    }
    assertInvalid(() => encodeJsonSafe({ p: new Point() }), /value\.p is a Point instance/);
    assertInvalid(() => encodeJsonSafe({ re: /x/ }), /RegExp instance/);
    assertInvalid(() => encodeJsonSafe({ 'odd key': () => 1 }), /value\["odd key"\] is a function/);
  });

  test('nesting too deep for the stack is a validation error, not a crash', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    assertInvalid(() => encodeJsonSafe(deep), /nests deeper than/);
    let fine: unknown = 1;
    for (let i = 0; i < 400; i++) fine = { next: fine };
    assert.deepEqual(roundTrip(fine), fine);
  });

  test('malformed tags are validation errors', () => {
    assertInvalid(() => decodeJsonSafe({ $bigint: 12 }), /\$bigint tag/);
    assertInvalid(() => decodeJsonSafe({ $bigint: '1.5' }), /\$bigint tag/);
    assertInvalid(() => decodeJsonSafe({ $date: 'yesterday' }), /\$date tag/);
    assertInvalid(() => decodeJsonSafe({ $number: 'Infinite' }), /\$number tag/);
    assertInvalid(() => decodeJsonSafe({ $map: [[1]] }), /\$map tag/);
    assertInvalid(() => decodeJsonSafe({ $set: {} }), /\$set tag/);
    assertInvalid(() => decodeJsonSafe({ a: { $escape: 1 } }, 'data'), /cannot decode data\.a/);
  });

  test('encoded values are plain JSON that JSON.stringify keeps exactly', () => {
    const encoded = encodeJsonSafe({
      d: new Date(5),
      m: new Map([[1n, new Set([Number.NaN])]]),
      u: undefined,
    });
    assert.deepEqual(JSON.parse(JSON.stringify(encoded)), encoded);
  });
});
