import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ASAP_DEFAULT_TRANSPORT_VERSION,
  CLIENT_ASAP_VERSION_HEADER,
  negotiateAsapVersion,
  negotiatesAsapVersion,
} from '../../src/protocol/index.ts';

/** [ASAP-Version header, negotiated version or the incompatible `requested` value]. */
const CASES: [string | string[] | undefined | null, { version: string } | { requested: string }][] = [
  [undefined, { version: '2.2' }],
  [null, { version: '2.2' }],
  ['', { version: '2.2' }],
  ['   ', { version: '2.2' }],
  ['2.2', { version: '2.2' }],
  ['2.1', { version: '2.1' }],
  ['2.2, 2.1', { version: '2.2' }],
  ['2.1, 2.2', { version: '2.1' }],
  ['3.0, 2.1', { version: '2.1' }],
  ['  2.1  ', { version: '2.1' }],
  [',,2.1,', { version: '2.1' }],
  ['2.2.0', { requested: '2.2.0' }],
  ['2', { requested: '2' }],
  ['v2.2', { requested: 'v2.2' }],
  ['1.0, 3.0', { requested: '1.0, 3.0' }],
  ['  9.9 ', { requested: '9.9' }],
  ['2.2;q=1', { requested: '2.2;q=1' }],
  [['2.1', '2.2'], { version: '2.1' }],
  [['9.9', '2.2'], { requested: '9.9' }],
];

for (const [header, expected] of CASES) {
  test(`ASAP-Version ${JSON.stringify(header)} → ${JSON.stringify(expected)}`, () => {
    const result = negotiateAsapVersion(header);
    if ('version' in expected) {
      assert.deepEqual(result, { ok: true, version: expected.version });
    } else {
      assert.deepEqual(result, {
        ok: false,
        requested: expected.requested,
        version: ASAP_DEFAULT_TRANSPORT_VERSION,
      });
    }
  });
}

test('only POST /asap and POST /asap/stream negotiate', () => {
  assert.equal(negotiatesAsapVersion('POST', '/asap'), true);
  assert.equal(negotiatesAsapVersion('POST', '/asap/stream'), true);
  assert.equal(negotiatesAsapVersion('GET', '/asap'), false);
  assert.equal(negotiatesAsapVersion('POST', '/asap/'), false);
  assert.equal(negotiatesAsapVersion('GET', '/.well-known/asap/manifest.json'), false);
});

test('the client header lists the supported versions newest first, as the Python client does', () => {
  assert.equal(CLIENT_ASAP_VERSION_HEADER, '2.2, 2.1');
  assert.deepEqual(negotiateAsapVersion(CLIENT_ASAP_VERSION_HEADER), { ok: true, version: '2.2' });
});
