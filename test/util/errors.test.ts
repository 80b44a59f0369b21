import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BatonError,
  coerceError,
  ConflictError,
  isBatonError,
  NotFoundError,
  ValidationError,
} from '../../src/util/errors.ts';

test('typed errors carry stable codes and details', () => {
  const error = new ValidationError('bad input', [{ path: 'input.a', message: 'must be string' }]);
  assert.equal(error.code, 'validation_failed');
  assert.deepEqual(error.details, [{ path: 'input.a', message: 'must be string' }]);
  assert.equal(new NotFoundError('x').code, 'not_found');
  assert.equal(new ConflictError('x').code, 'conflict');
});

test('isBatonError recognises the code, not the class, so copies of the package still match', () => {
  const foreign = Object.assign(new Error('from another copy'), { code: 'conflict' });
  assert.equal(isBatonError(foreign), true);
  assert.equal(isBatonError(new BatonError('internal', 'x')), true);
  assert.equal(isBatonError(Object.assign(new Error('x'), { code: 'ECONNRESET' })), false);
  assert.equal(isBatonError({ code: 'conflict' }), false);
});

test('coerceError turns anything thrown into an Error with a readable message', () => {
  const error = new Error('kept');
  assert.equal(coerceError(error), error);
  assert.equal(coerceError('text').message, 'text');
  assert.equal(coerceError({ a: 1 }).message, 'non-error thrown: {"a":1}');
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.match(coerceError(circular).message, /^non-error thrown: /);
});
