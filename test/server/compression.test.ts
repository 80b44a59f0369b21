// Compressed request bodies over a real socket, in many chunks: gzip and br decoded, the size limit
// applied to the decoded bytes as they stream (asap-wire §2.3 steps 5–7, §5.5), and a 1 GB
// decompression bomb. The exact answers of each step are in conformance.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brotliCompressSync, createGzip, gzipSync } from 'node:zlib';
import { envelope, resultOf, rpc, serverFixture } from './helpers.ts';

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function send(
  url: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<Answer> {
  const response = await fetch(`${url}/asap`, { method: 'POST', body, headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as unknown };
}

/** A gzip stream of `bytes` zeros, generated chunk by chunk (level 1: ~4.6 MB for 1 GiB). */
async function gzipOfZeros(bytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 1 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => gzip.on('end', resolve));
  const zeros = Buffer.alloc(1 << 20);
  for (let written = 0; written < bytes; written += zeros.length) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await ended;
  return Buffer.concat(out);
}

describe('compressed request bodies', () => {
  const server = serverFixture({ listen: true });
  const big = () => rpc(envelope({ payload_type: 'ping', payload: { pad: 'x'.repeat(50_000) } }));

  test('gzip and br bodies are decoded', async () => {
    server.app.asap.register('ping', (request, context) =>
      context.reply('pong', { size: JSON.stringify(request.payload).length }),
    );
    const json = JSON.stringify(big());
    for (const [encoding, body] of [
      ['gzip', gzipSync(json)],
      ['br', brotliCompressSync(json)],
      [' GZip ', gzipSync(json)],
    ] as const) {
      assert.ok(body.length < json.length / 10);
      const answer = await send(server.url, body, { 'content-encoding': encoding });
      assert.equal(answer.status, 200, encoding);
      assert.equal(answer.headers.get('asap-version'), '2.2');
      assert.deepEqual(resultOf(answer.body).payload, { size: 50_010 });
    }
  });
});

describe('decoded size limit', () => {
  const server = serverFixture({ listen: true, server: { config: { maxRequestBytes: 64 * 1024 } } });

  test('a small compressed body that decodes past the limit is 413', async () => {
    const json = JSON.stringify(
      rpc(envelope({ payload_type: 'ping', payload: { pad: 'y'.repeat(100_000) } })),
    );
    for (const [encoding, body] of [
      ['gzip', gzipSync(json)],
      ['br', brotliCompressSync(json)],
    ] as const) {
      assert.ok(body.length < 64 * 1024);
      const answer = await send(server.url, body, { 'content-encoding': encoding });
      assert.equal(answer.status, 413, encoding);
      assert.match(
        (answer.body as { detail: string }).detail,
        /^Request size \(\d+ bytes\) exceeds maximum \(65536 bytes\)$/,
      );
    }
  });

  test('a raw body over the limit without Content-Length is 413', async () => {
    const chunks = function* () {
      for (let i = 0; i < 20; i++) yield new Uint8Array(8 * 1024).fill(32);
    };
    const response = await fetch(`${server.url}/asap`, {
      method: 'POST',
      body: ReadableStream.from(chunks()),
      duplex: 'half',
    });
    assert.equal(response.status, 413);
    assert.match(((await response.json()) as { detail: string }).detail, /exceeds maximum \(65536 bytes\)/);
  });
});

describe('decompression bomb', () => {
  const server = serverFixture({ listen: true });

  test('1 GiB of zeros in gzip is refused quickly, with little memory', async (t) => {
    const bomb = await gzipOfZeros(1 << 30);
    assert.ok(bomb.length < 10 * 1024 * 1024, `the bomb passes the raw limit (${bomb.length} bytes)`);
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const started = performance.now();
    let report: string | undefined;
    try {
      const answer = await send(server.url, bomb, { 'content-encoding': 'gzip' });
      const elapsed = performance.now() - started;
      assert.equal(answer.status, 413);
      assert.match(
        (answer.body as { detail: string }).detail,
        /^Request size \(\d+ bytes\) exceeds maximum \(10485760 bytes\)$/,
      );
      const decoded = Number(/\((\d+) bytes\)/.exec((answer.body as { detail: string }).detail)![1]);
      assert.ok(decoded < 11 * 1024 * 1024, `decoding stopped right after the limit (${decoded} bytes)`);
      report = `${bomb.length} compressed bytes refused in ${elapsed.toFixed(0)} ms after ${decoded} decoded bytes`;
      assert.ok(elapsed < 2000, report);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const growth = (peak - before) / (1024 * 1024);
    t.diagnostic(`${report}; RSS grew by ${growth.toFixed(1)} MiB`);
    assert.ok(growth < 64, `RSS grew by ${growth.toFixed(1)} MiB`);
  });
});
