// `baton serve` end to end in a child process: the example templates over HTTP, then SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatTimestamp, type Manifest } from '../../src/protocol/index.ts';
import { tempDir } from '../config/temp-dir.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

test('baton serve answers health, the manifest and a task.request, then stops on SIGTERM', async (t) => {
  const store = `sqlite:${join(tempDir(t), 'serve.db')}`;
  const child = spawn(process.execPath, [MAIN, 'serve', '--store', store, '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', BATON_POLL_INTERVAL_MS: '20', BATON_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = /Baton listening on (http:\/\/\S+)/.exec(stdout);
      if (found) resolve(found[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  try {
    const health = await fetch(`${url}/health`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal(health.headers.get('asap-version'), '2.2');

    const manifest = (await (await fetch(`${url}/.well-known/asap/manifest.json`)).json()) as Manifest;
    assert.equal(manifest.id, 'urn:asap:agent:baton');
    assert.equal(manifest.endpoints.asap, `${url}/asap`, 'the manifest advertises the address it listens on');
    assert.deepEqual(
      manifest.capabilities.skills.map((skill) => skill.id),
      ['shop.order'],
    );

    const response = await fetch(`${url}/asap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'asap-version': '2.2, 2.1' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'asap.send',
        id: 'req-1',
        params: {
          envelope: {
            asap_version: '0.1',
            timestamp: formatTimestamp(),
            sender: 'urn:asap:agent:client',
            recipient: 'urn:asap:agent:baton',
            payload_type: 'task.request',
            payload: { conversation_id: 'c-1', skill_id: 'shop.order', input: { order_id: 'A-1', items: 2 } },
          },
        },
      }),
    });
    const answer = (await response.json()) as { result: { envelope: { payload: Record<string, unknown> } } };
    const payload = answer.result.envelope.payload;
    assert.equal(payload.status, 'completed', JSON.stringify(answer));
    assert.deepEqual(Object.keys(payload.result as object), ['ship']);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /baton\.server\.listening/);
  assert.match(stderr, /baton\.server\.stopping/);
});

test('baton serve refuses to start, in one line, when its port is taken', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = String((taken.address() as AddressInfo).port);
  const store = `sqlite:${join(tempDir(t), 'taken.db')}`;
  const child = spawn(process.execPath, [MAIN, 'serve', '--store', store, '--port', port], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 2, 'a taken port is a configuration problem');
  const lines = stderr.split('\n').filter((line) => line.startsWith('baton:'));
  assert.deepEqual(lines, [
    `baton: cannot listen on 127.0.0.1:${port}: the port is taken by another process (choose another with --port or BATON_PORT)`,
  ]);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
});

test('baton serve and worker refuse to start, in one line, when the store cannot be opened', async (t) => {
  const dir = tempDir(t, { 'notes.db': 'plain text notes, not an SQLite database file at all' });
  const store = `sqlite:${join(dir, 'notes.db')}`;
  for (const args of [
    ['serve', '--port', '0'],
    ['worker', '--handlers', join(import.meta.dirname, 'fixtures', 'handlers.ts')],
  ]) {
    const child = spawn(process.execPath, [MAIN, ...args, '--store', store], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 5, `${args[0]}: ${stderr}`);
    assert.equal(
      stderr,
      `baton: cannot open the SQLite store ${join(dir, 'notes.db')}: file is not a database\n(check --store or BATON_STORE)\n`,
    );
  }
});
