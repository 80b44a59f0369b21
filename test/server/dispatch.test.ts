// The dispatch paths of the pipeline: handlers answering at once, later, through any thenable, or
// failing either way; and a nonce store that answers asynchronously (as a shared one does).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NonceStore } from '../../src/server/index.ts';
import { envelope, errorOf, post, resultOf, rpc, serverFixture } from './helpers.ts';

/** A nonce store that answers on a later turn, as a networked one would. */
class AsyncNonceStore implements NonceStore {
  readonly seen = new Set<string>();
  async checkAndMark(nonce: string): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.seen.has(nonce)) return false;
    this.seen.add(nonce);
    return true;
  }
}

describe('dispatch paths', () => {
  const nonces = new AsyncNonceStore();
  const fixture = serverFixture({ server: { config: { requireNonce: true }, nonceStore: nonces } });
  const send = (payloadType: string, extensions: object | null = null) =>
    post(fixture.app, rpc(envelope({ payload_type: payloadType, payload: {}, extensions })));

  test('handlers answering at once, later, or through a bare thenable are all answered', async () => {
    const { app } = fixture;
    app.asap.register('t.sync', (_envelope, ctx) => ctx.reply('t.ok', { how: 'sync' }));
    app.asap.register('t.async', async (_envelope, ctx) => {
      await new Promise((resolve) => setImmediate(resolve));
      return ctx.reply('t.ok', { how: 'async' });
    });
    app.asap.register('t.thenable', (_envelope, ctx) => {
      const reply = ctx.reply('t.ok', { how: 'thenable' });
      return { then: (resolve: (value: typeof reply) => void) => resolve(reply) } as unknown as Promise<
        typeof reply
      >;
    });
    for (const how of ['sync', 'async', 'thenable']) {
      assert.deepEqual(resultOf(await send(`t.${how}`)).payload, { how });
    }
  });

  test('a handler throwing at once or rejecting later is -32603', async () => {
    const { app } = fixture;
    app.asap.register('t.throws', () => {
      throw new Error('boom');
    });
    app.asap.register('t.rejects', () => Promise.reject(new Error('later boom')));
    for (const type of ['t.throws', 't.rejects']) {
      const error = errorOf(await send(type));
      assert.equal(error.code, -32603);
      assert.deepEqual(error.data, { error: 'Internal server error' });
    }
  });

  test('an asynchronous nonce store passes a new nonce and refuses its repeat with -32003', async () => {
    fixture.app.asap.register('t.sync', (_envelope, ctx) => ctx.reply('t.ok', { how: 'sync' }));
    assert.equal(resultOf(await send('t.sync', { nonce: 'n-1' })).payload_type, 't.ok');
    const repeat = errorOf(await send('t.sync', { nonce: 'n-1' }));
    assert.equal(repeat.code, -32003);
    assert.ok(nonces.seen.has('n-1'));
    assert.equal(resultOf(await send('t.sync')).payload_type, 't.ok', 'no nonce: no check');
  });
});
