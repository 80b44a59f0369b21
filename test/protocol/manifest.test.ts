import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateManifest, type JsonObject } from '../../src/protocol/index.ts';
import { summary, URL_PREFIX } from './fixtures.ts';

/** The reference's default standalone-server manifest (§4), in the short form a peer may send. */
const DEFAULT_MANIFEST: JsonObject = {
  id: 'urn:asap:agent:default-server',
  name: 'ASAP Default Server',
  version: '1.0.0-dev',
  description: 'Default ASAP protocol server with echo capabilities',
  capabilities: { asap_version: '0.1', skills: [{ id: 'echo', description: 'Echo back the input' }] },
  endpoints: { asap: 'http://localhost:8000/asap' },
};

function withChanges(changes: JsonObject): JsonObject {
  return { ...structuredClone(DEFAULT_MANIFEST), ...changes };
}

function issuesOf(raw: unknown): [string, string][] {
  const result = validateManifest(raw);
  assert.ok(!result.ok && 'issues' in result, `expected issues, got ${JSON.stringify(result)}`);
  return summary(result.issues);
}

describe('manifest (§4)', () => {
  test('the default manifest is valid and served with every key present, defaults filled in', () => {
    const result = validateManifest(DEFAULT_MANIFEST);
    assert.ok(result.ok);
    assert.deepEqual(result.manifest, {
      ...DEFAULT_MANIFEST,
      capabilities: {
        asap_version: '0.1',
        skills: [{ id: 'echo', description: 'Echo back the input', input_schema: null, output_schema: null }],
        state_persistence: false,
        streaming: false,
        mcp_tools: [],
        hardware: null,
        inference: null,
      },
      endpoints: { asap: 'http://localhost:8000/asap', events: null },
      supported_versions: ['2.2'],
      auth: null,
      signature: null,
      sla: null,
      verification: null,
      ttl_seconds: 300,
    });
  });

  test('every model is strict, nested ones included', () => {
    assert.deepEqual(
      issuesOf(
        withChanges({
          extra: 1,
          capabilities: { skills: [{ id: 'a', description: 'b', tags: [] }], unknown: true },
          endpoints: { asap: 'x', websocket: 'y' },
        }),
      ),
      [
        ['extra_forbidden', 'capabilities.skills.0.tags'],
        ['extra_forbidden', 'capabilities.unknown'],
        ['extra_forbidden', 'endpoints.websocket'],
        ['extra_forbidden', 'extra'],
      ],
    );
  });

  test('required fields and nested model types', () => {
    assert.deepEqual(issuesOf({}), [
      ['missing', 'id'],
      ['missing', 'name'],
      ['missing', 'version'],
      ['missing', 'description'],
      ['missing', 'capabilities'],
      ['missing', 'endpoints'],
    ]);
    assert.deepEqual(issuesOf(withChanges({ capabilities: [], endpoints: {} })), [
      ['model_type', 'capabilities'],
      ['missing', 'endpoints.asap'],
    ]);
    assert.deepEqual(issuesOf('manifest'), [['model_type', '']]);
  });

  test('id must be an agent URN', () => {
    assert.deepEqual(issuesOf(withChanges({ id: 'urn:asap:agent:Upper' })), [['value_error', 'id']]);
  });

  const versions: [string, boolean][] = [
    ['1.0.0', true],
    ['1.0', true],
    ['1.0.0-dev', true],
    ['v1', true],
    ['1!2.0rc1.post2.dev3+local.7', true],
    ['2.0.0a1', true],
    [' 1.0 ', true],
    ['1.0.0-beta.1', true],
    ['latest', false],
    ['1.x', false],
    ['', false],
    ['1.0.0+', false],
  ];
  for (const [version, ok] of versions) {
    test(`version ${JSON.stringify(version)} ${ok ? 'parses' : 'does not parse'} as PEP 440`, () => {
      const result = validateManifest(withChanges({ version }));
      assert.equal(result.ok, ok);
      if (!ok) {
        assert.ok(!result.ok && 'issues' in result);
        const text = `Invalid semantic version '${version}': Invalid version: '${version}'`;
        assert.deepEqual(result.issues[0], {
          type: 'value_error',
          loc: ['version'],
          msg: `Value error, ${text}`,
          input: version,
          ctx: { error: text },
          url: `${URL_PREFIX}value_error`,
        });
      }
    });
  }

  test('auth schemes: bearer and basic (any case) pass; anything else is -32020, not a field issue', () => {
    assert.ok(validateManifest(withChanges({ auth: { schemes: ['Bearer', 'BASIC'] } })).ok);
    const result = validateManifest(
      withChanges({ auth: { schemes: ['bearer', 'oauth2'], oauth2: { token_url: 't' } } }),
    );
    assert.ok(!result.ok && 'error' in result);
    assert.equal(result.error.rpcCode, -32020);
    assert.equal(
      result.error.message,
      "Unsupported authentication scheme 'oauth2'. Supported schemes: basic, bearer",
    );
    assert.deepEqual(issuesOf(withChanges({ auth: { schemes: 'bearer' } })), [['list_type', 'auth.schemes']]);
  });

  test('supported_versions needs at least one entry; ttl_seconds at least 1', () => {
    const result = validateManifest(withChanges({ supported_versions: [] }));
    assert.ok(!result.ok && 'issues' in result);
    assert.deepEqual(result.issues[0], {
      type: 'too_short',
      loc: ['supported_versions'],
      msg: 'List should have at least 1 item after validation, not 0',
      input: [],
      ctx: { field_type: 'List', min_length: 1, actual_length: 0 },
      url: `${URL_PREFIX}too_short`,
    });
    assert.deepEqual(issuesOf(withChanges({ ttl_seconds: 0 })), [['greater_than_equal', 'ttl_seconds']]);
    const ok = validateManifest(withChanges({ supported_versions: ['2.1', '2.2'], ttl_seconds: '60' }));
    assert.ok(ok.ok);
    assert.equal(ok.manifest.ttl_seconds, 60);
  });

  test('SLA percentages are trimmed and checked', () => {
    const ok = validateManifest(
      withChanges({ sla: { availability: ' 99.5% ', max_error_rate: '1', max_latency_p95_ms: 500 } }),
    );
    assert.ok(ok.ok);
    assert.deepEqual(ok.manifest.sla, {
      availability: '99.5%',
      max_latency_p95_ms: 500,
      max_error_rate: '1',
      support_hours: null,
    });
    const bad = validateManifest(withChanges({ sla: { availability: 'high' } }));
    assert.ok(!bad.ok && 'issues' in bad);
    assert.equal(bad.issues[0]?.msg, "Value error, Invalid percentage string: 'high'");
    assert.deepEqual(issuesOf(withChanges({ sla: { max_latency_p95_ms: -1 } })), [
      ['greater_than_equal', 'sla.max_latency_p95_ms'],
    ]);
  });

  test('hardware (class is the JSON key), inference and verification', () => {
    const result = validateManifest(
      withChanges({
        capabilities: {
          hardware: { class: 'sbc', model: 'Jetson Orin Nano', io: ['gpio', 'csi_camera'] },
          inference: {
            modes: ['local_cuda'],
            local_models: [{ id: 'llama', throughput_tokens_per_second: 12.5 }],
          },
        },
        verification: { status: 'verified', verified_at: '2026-07-21T12:00:00+00:00' },
      }),
    );
    assert.ok(result.ok);
    assert.deepEqual(result.manifest.capabilities.hardware, {
      class: 'sbc',
      model: 'Jetson Orin Nano',
      io: ['gpio', 'csi_camera'],
    });
    assert.deepEqual(result.manifest.capabilities.inference?.local_models, [
      { id: 'llama', quantization: null, throughput_tokens_per_second: 12.5 },
    ]);
    assert.deepEqual(result.manifest.verification, {
      status: 'verified',
      verified_at: '2026-07-21T12:00:00Z',
    });
    assert.deepEqual(
      issuesOf(
        withChanges({ capabilities: { hardware: { class: 'phone', model: 'x'.repeat(101), io: ['usb'] } } }),
      ),
      [
        ['enum', 'capabilities.hardware.class'],
        ['string_too_long', 'capabilities.hardware.model'],
        ['enum', 'capabilities.hardware.io.0'],
      ],
    );
  });
});
