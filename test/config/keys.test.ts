import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG_KEY_NAMES, CONFIG_KEYS, renderConfigReference } from '../../src/config/index.ts';

test('each environment variable is BATON_ and the key in upper snake case', () => {
  for (const key of CONFIG_KEY_NAMES) {
    assert.equal(
      CONFIG_KEYS[key].env,
      `BATON_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`,
    );
  }
});

test('flags are unique', () => {
  const flags = CONFIG_KEY_NAMES.flatMap((key) => {
    const spec = CONFIG_KEYS[key];
    return 'flag' in spec ? [spec.flag.split(' ')[0]] : [];
  });
  assert.equal(new Set(flags).size, flags.length);
});

test('the reference documents every key with its variable, flag and default', () => {
  const lines = renderConfigReference().trimEnd().split('\n');
  assert.equal(lines.length, CONFIG_KEY_NAMES.length + 2);
  assert.ok(lines.includes('| env | file key | flag | default | meaning |'));
  assert.match(
    lines.find((line) => line.startsWith('| `BATON_PORT` |')) ?? '',
    /^\| `BATON_PORT` \| `port` \| `--port` \| `8080` \| Port /,
  );
  assert.match(lines.find((line) => line.startsWith('| `BATON_REDIS_URL` |')) ?? '', /\| unset \|/);
  assert.match(
    lines.find((line) => line.startsWith('| `BATON_JWT_SECRET` |')) ?? '',
    /\| {2}\| unset \| .*Secret: never printed\. \|$/,
  );
  for (const key of CONFIG_KEY_NAMES)
    assert.ok(
      lines.some((line) => line.startsWith(`| \`${CONFIG_KEYS[key].env}\` | \`${key}\` |`)),
      key,
    );
});
