// ASAP wire conformance of Baton's server, as one table (asap-wire §0, §2, §4, §5.6): each case is a
// request, the server it goes to, and the exact answer the reference gives (HTTP status, headers,
// `error.code`, fixed messages, the key sets of `error.data` and `error.data.details`). Rows of the
// §2.3 pipeline that Baton does not implement are listed as skipped, with the reason.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { Readable } from 'node:stream';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { Engine } from '../../src/engine/index.ts';
import { AsapError, ASAP_ERRORS, type JsonObject, type JsonRpcId } from '../../src/protocol/index.ts';
import { ConflictError } from '../../src/util/errors.ts';
import { AGENT, CLIENT, envelope, rpc, serverFixture, taskRequest } from './helpers.ts';

// ── The shape of a case ──────────────────────────────────────────────────────

interface WireRequest {
  /** Default `POST`. */
  method?: 'GET' | 'POST' | 'HEAD';
  /** Default `/asap`. */
  path?: string;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is, anything else as JSON. */
  body?: unknown;
  /** Send the body as a stream without `Content-Length` (`Transfer-Encoding: chunked`). */
  chunked?: boolean;
}

/** The server a case runs against; cases with equal options share one server. */
interface ServerVariant {
  requireNonce?: boolean;
  maxRequestBytes?: number;
  /** A fixed clock (ISO timestamp) for the timestamp window and uptime. */
  now?: string;
  debug?: boolean;
}

/** A `validation_errors` entry: `[type, loc]`, or `[type, loc, msg]` to check the message too. */
type Issue =
  readonly [string, readonly (string | number)[]] | readonly [string, readonly (string | number)[], string];

interface RpcErrorExpect {
  id: JsonRpcId | null;
  code: number;
  /** Default: the fixed message of a standard JSON-RPC code. */
  message?: string | RegExp;
  /** The sorted keys of `error.data`; `null` when `data` is null. */
  dataKeys: readonly string[] | null;
  /** Exact values of some `error.data` keys. */
  data?: JsonObject;
  /** The sorted keys of `error.data.details`. */
  detailsKeys?: readonly string[];
  /** `error.data.validation_errors`, in order. */
  issues?: readonly Issue[];
}

interface RpcResultExpect {
  id: JsonRpcId;
  payloadType: string;
  /** The request envelope's id (§0.3). */
  correlationId: string;
  traceId?: string;
  /** `payload.status`. */
  status?: string;
  /** The whole payload, exactly. */
  payload?: JsonObject;
}

type RpcAnswerExpect = { error: RpcErrorExpect } | { result: RpcResultExpect } | { json: unknown };

interface Expect {
  status: number;
  /** Exact values (or patterns); `null` means absent. Defaults: `ASAP-Version: 2.2`, JSON content type. */
  headers?: Record<string, string | RegExp | null>;
  /** The JSON body, exactly. */
  body?: unknown;
  error?: RpcErrorExpect;
  result?: RpcResultExpect;
  batch?: readonly RpcAnswerExpect[];
  /** A `{"detail": …}` body (HTTP-level answers, §2.3 rows 3, 5–7). */
  detail?: string | RegExp;
  /** The sorted top-level keys of a JSON body. */
  keys?: readonly string[];
  /** The raw body text. */
  text?: RegExp | '';
}

interface WireCase {
  name: string;
  /** The asap-wire row or section it covers: `row 13` (§2.3), `-32030` (§2.4), `§2.6`, `§4`… */
  row: string;
  server?: ServerVariant;
  /** Requests sent first, their answers ignored (a nonce seen before). */
  given?: readonly WireRequest[];
  request: WireRequest;
  expect: Expect;
}

interface SkipCase {
  name: string;
  row: string;
  skip: string;
}

// ── Constants of the reference ───────────────────────────────────────────────

/** Baton's JSON content type: the reference's `application/json`, with the charset fastify adds. */
const JSON_TYPE = 'application/json; charset=utf-8';
const FIXED_MESSAGES: Readonly<Record<number, string>> = {
  [-32700]: 'Parse error',
  [-32600]: 'Invalid request',
  [-32601]: 'Method not found',
  [-32602]: 'Invalid params',
  [-32603]: 'Internal error',
  [-32000]: 'ASAP protocol version incompatible',
};
const ENVELOPE_KEYS = [
  'asap_version',
  'correlation_id',
  'extensions',
  'id',
  'payload',
  'payload_type',
  'recipient',
  'requires_ack',
  'sender',
  'timestamp',
  'trace_id',
];
const ISSUE_KEYS = new Set(['type', 'loc', 'msg', 'input', 'ctx', 'url']);
/** `error.data` of an ASAP error without recovery hints (§2.4). */
const ASAP_DATA = ['asap_taxonomy_code', 'code', 'details', 'error', 'message', 'recoverable', 'rpc_code'];
/** … with `retry_after_ms` and `fallback_action`. */
const ASAP_DATA_RETRY = [...ASAP_DATA, 'fallback_action', 'retry_after_ms'].sort();
const STRUCTURE = ['error', 'validation_errors'];
const DEFAULT_VERSION = '2.2';

/** Placeholders replaced in requests and expectations by values known once the server runs. */
interface Context {
  /** A `test.echo` task that has completed. */
  $FINISHED_TASK: string;
  /** The manifest's ETag, computed here from its body (sha256 of the JSON with sorted keys). */
  $ETAG: string;
  /** The manifest's version. */
  $VERSION: string;
}

// ── Request builders ─────────────────────────────────────────────────────────

const PING = 'conformance.ping';
const NOW = '2026-07-21T12:05:00.123Z';
const SMALL = { maxRequestBytes: 2048 };
const CLOCK = { now: NOW };
const NONCE = { requireNonce: true };

/** A `conformance.ping` envelope (answered `conformance.pong` with the same payload). */
const ping = (id: string, changes: JsonObject = {}): JsonObject =>
  envelope({ id, payload_type: PING, payload: { n: 1 }, ...changes });
const pong = (id: JsonRpcId, envelopeId: string): { result: RpcResultExpect } => ({
  result: { id, payloadType: 'conformance.pong', correlationId: envelopeId, payload: { n: 1 } },
});
const call = (payloadType: string, payload: JsonObject, id: JsonRpcId = 'req-1'): JsonObject =>
  rpc(envelope({ id: `env-${String(id)}`, payload_type: payloadType, payload }), id);
const stamped = (timestamp: string | undefined, id: string): JsonObject => rpc(ping(id, { timestamp }), id);
const withNonce = (nonce: unknown, id: string): JsonObject => rpc(ping(id, { extensions: { nonce } }), id);
const tooLarge = (size: number, max = 2048) => `Request size (${size} bytes) exceeds maximum (${max} bytes)`;

const OK_JSON = JSON.stringify(rpc(ping('env-zip', { payload: { n: 1, pad: 'z'.repeat(2000) } }), 'zip'));
const BIG = `{"pad":"${'x'.repeat(3000)}"}`;
const SPACES = Buffer.alloc(3000, 32);
const BATCH_50 = Array.from({ length: 50 }, (_, n) => rpc(ping(`env-${n}`), `req-${n}`));

// ── The table ────────────────────────────────────────────────────────────────

const CASES: readonly (WireCase | SkipCase)[] = [
  // §0.1, §2.2: the request and the success answer.
  {
    name: 'asap.send is answered at HTTP 200 with result.envelope bound to the request',
    row: '§0.1',
    request: { body: rpc(ping('env-ok', { trace_id: 'trace-1' }), 7) },
    expect: {
      status: 200,
      result: {
        id: 7,
        payloadType: 'conformance.pong',
        correlationId: 'env-ok',
        traceId: 'trace-1',
        payload: { n: 1 },
      },
    },
  },
  {
    name: 'task.request runs the skill and answers task.response (§0.3 correlation)',
    row: '§0.3',
    request: { body: rpc(envelope({ id: 'env-task' }), 'task') },
    expect: {
      status: 200,
      result: { id: 'task', payloadType: 'task.response', correlationId: 'env-task', status: 'completed' },
    },
  },
  {
    name: 'a request without jsonrpc is accepted',
    row: '§2.2',
    request: { body: { method: 'asap.send', params: { envelope: ping('env-nj') }, id: 'nj' } },
    expect: { status: 200, ...pong('nj', 'env-nj') },
  },
  {
    name: 'an integral float id is coerced to an integer',
    row: '§2.2',
    request: { body: JSON.stringify(rpc(ping('env-float'), 4242)).replace('4242', '2.0') },
    expect: { status: 200, ...pong(2, 'env-float') },
  },
  {
    name: 'a boolean id is coerced to an integer',
    row: '§2.2',
    request: { body: rpc(ping('env-bool'), true as unknown as number) },
    expect: { status: 200, ...pong(1, 'env-bool') },
  },
  {
    name: 'params.idempotency_key and X-Idempotency-Key are ignored',
    row: '§0.10',
    request: {
      headers: { 'x-idempotency-key': '01JQ9Y8R6C2K3M4N5P6Q7R8S9T' },
      body: {
        ...rpc(ping('env-idem'), 'idem'),
        params: { envelope: ping('env-idem'), idempotency_key: 'k' },
      },
    },
    expect: { status: 200, ...pong('idem', 'env-idem') },
  },
  {
    name: 'the request Content-Type is ignored',
    row: '§2.3',
    request: { headers: { 'content-type': 'text/plain' }, body: rpc(ping('env-ct'), 'ct') },
    expect: { status: 200, ...pong('ct', 'env-ct') },
  },

  // Row 1: ASAP-Version.
  {
    name: 'an unsupported ASAP-Version is -32000, id null, HTTP 200',
    row: 'row 1',
    request: { headers: { 'asap-version': ' 3.0, 2.2.0 ' }, body: rpc(ping('env-v')) },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: {
          code: -32000,
          message: 'ASAP protocol version incompatible',
          data: { requested: '3.0, 2.2.0', supported: ['2.1', '2.2'] },
        },
        id: null,
      },
    },
  },
  {
    name: 'the first supported token in the client order is negotiated and echoed',
    row: 'row 1',
    request: { headers: { 'asap-version': '2.1, 2.2' }, body: rpc(ping('env-v21'), 'v21') },
    expect: { status: 200, headers: { 'asap-version': '2.1' }, ...pong('v21', 'env-v21') },
  },
  {
    name: 'unsupported tokens before a supported one are skipped',
    row: 'row 1',
    request: { headers: { 'asap-version': '9.9, 2.2' }, body: rpc(ping('env-v22'), 'v22') },
    expect: { status: 200, headers: { 'asap-version': '2.2' }, ...pong('v22', 'env-v22') },
  },
  {
    name: 'a blank ASAP-Version means the default',
    row: 'row 1',
    request: { headers: { 'asap-version': '  ' }, body: rpc(ping('env-vb'), 'vb') },
    expect: { status: 200, ...pong('vb', 'env-vb') },
  },
  {
    name: 'ASAP-Version is checked on /asap/stream too',
    row: 'row 1',
    request: { path: '/asap/stream', headers: { 'asap-version': '1.0' }, body: rpc(envelope()) },
    expect: {
      status: 200,
      error: { id: null, code: -32000, dataKeys: ['requested', 'supported'], data: { requested: '1.0' } },
    },
  },
  {
    name: 'ASAP-Version is not checked on GET routes, which carry the default',
    row: 'row 1',
    request: { method: 'GET', path: '/health', headers: { 'asap-version': '9.9' } },
    expect: { status: 200, body: { status: 'ok' } },
  },
  {
    name: 'the version check comes before the size check',
    row: 'row 1',
    server: SMALL,
    request: { headers: { 'asap-version': '1.0' }, body: BIG },
    expect: { status: 200, error: { id: null, code: -32000, dataKeys: ['requested', 'supported'] } },
  },
  {
    name: 'the version check comes before the encoding check',
    row: 'row 1',
    request: { headers: { 'asap-version': '1.0', 'content-encoding': 'zstd' }, body: rpc(envelope()) },
    expect: { status: 200, error: { id: null, code: -32000, dataKeys: ['requested', 'supported'] } },
  },

  {
    name: 'OAuth2 JWT',
    row: 'row 2',
    skip: 'Baton has no OAuth2 middleware (no JWKS or JWT check in src/server)',
  },

  // Row 3: Content-Length.
  {
    name: 'a Content-Length over the limit is 413 with the reference detail',
    row: 'row 3',
    server: SMALL,
    request: { body: BIG },
    expect: { status: 413, body: { detail: tooLarge(BIG.length) } },
  },
  {
    name: 'the size check comes before the encoding check',
    row: 'row 3',
    server: SMALL,
    request: { headers: { 'content-encoding': 'zstd' }, body: BIG },
    expect: { status: 413, detail: tooLarge(BIG.length) },
  },

  {
    name: 'rate limiter (HTTP 429, Retry-After)',
    row: 'row 4',
    skip: 'Baton has no rate limiter on /asap (§0.8 does not apply either)',
  },

  // Row 5: Content-Encoding.
  {
    name: 'an unsupported Content-Encoding is 415',
    row: 'row 5',
    request: { headers: { 'content-encoding': 'deflate' }, body: rpc(envelope()) },
    expect: { status: 415, body: { detail: 'Unsupported Content-Encoding: deflate. Supported: br, gzip' } },
  },
  {
    name: 'stacked encodings are 415, shown lower-cased and trimmed',
    row: 'row 5',
    request: { headers: { 'content-encoding': ' GZIP, br' }, body: rpc(envelope()) },
    expect: { status: 415, body: { detail: 'Unsupported Content-Encoding: gzip, br. Supported: br, gzip' } },
  },
  {
    name: 'identity is accepted, case-insensitively',
    row: 'row 5',
    request: { headers: { 'content-encoding': 'Identity' }, body: rpc(ping('env-id'), 'id') },
    expect: { status: 200, ...pong('id', 'env-id') },
  },
  {
    name: 'a gzip body is decoded',
    row: '§0.7',
    request: { headers: { 'content-encoding': 'gzip' }, body: gzipSync(OK_JSON) },
    expect: {
      status: 200,
      result: {
        id: 'zip',
        payloadType: 'conformance.pong',
        correlationId: 'env-zip',
        payload: { n: 1, pad: 'z'.repeat(2000) },
      },
    },
  },
  {
    name: 'a br body is decoded',
    row: '§0.7',
    request: { headers: { 'content-encoding': 'br' }, body: brotliCompressSync(OK_JSON) },
    expect: { status: 200, result: { id: 'zip', payloadType: 'conformance.pong', correlationId: 'env-zip' } },
  },
  {
    name: 'Content-Encoding is case-insensitive and trimmed',
    row: '§2.5',
    request: { headers: { 'content-encoding': ' GZip ' }, body: gzipSync(OK_JSON) },
    expect: { status: 200, result: { id: 'zip', payloadType: 'conformance.pong', correlationId: 'env-zip' } },
  },

  // Row 6: the body read and the decoded body.
  {
    name: 'a raw body over the limit without Content-Length is 413',
    row: 'row 6',
    server: SMALL,
    request: { body: SPACES, chunked: true },
    expect: { status: 413, body: { detail: tooLarge(3000) } },
  },
  {
    name: 'a compressed body that decodes past the limit is 413',
    row: 'row 6',
    server: SMALL,
    request: { headers: { 'content-encoding': 'gzip' }, body: gzipSync(SPACES) },
    expect: { status: 413, body: { detail: tooLarge(3000) } },
  },

  // Row 7: decompression failures.
  {
    name: 'invalid gzip data is 400',
    row: 'row 7',
    request: { headers: { 'content-encoding': 'gzip' }, body: 'not gzip at all' },
    expect: { status: 400, detail: /^Invalid compressed data: .+/ },
  },
  {
    name: 'invalid br data is 400',
    row: 'row 7',
    request: { headers: { 'content-encoding': 'br' }, body: 'not brotli at all, not at all' },
    expect: { status: 400, detail: /^Invalid compressed data: .+/ },
  },

  // Row 8: -32700.
  {
    name: 'an empty body is -32700',
    row: 'row 8',
    request: { body: '' },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: {
          code: -32700,
          message: 'Parse error',
          data: { error: 'Invalid JSON: Expecting value: line 1 column 1 (char 0)' },
        },
        id: null,
      },
    },
  },
  {
    name: 'an empty body declared application/json is -32700 too',
    row: 'row 8',
    request: { headers: { 'content-type': 'application/json' }, body: '' },
    expect: { status: 200, error: { id: null, code: -32700, dataKeys: ['error'] } },
  },
  {
    name: 'truncated JSON is -32700 with Python json wording',
    row: 'row 8',
    request: { body: '{"jsonrpc": "2.0",' },
    expect: {
      status: 200,
      error: {
        id: null,
        code: -32700,
        dataKeys: ['error'],
        data: {
          error:
            'Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 19 (char 18)',
        },
      },
    },
  },
  {
    name: 'a body that is not UTF-8 is -32700',
    row: 'row 8',
    request: { body: Buffer.from([0x7b, 0xff, 0x7d]) },
    expect: {
      status: 200,
      error: {
        id: null,
        code: -32700,
        dataKeys: ['error'],
        data: {
          error:
            "Invalid UTF-8 encoding: 'utf-8' codec can't decode byte 0xff in position 1: invalid start byte",
        },
      },
    },
  },
  {
    name: 'errors after decoding are JSON-RPC errors',
    row: 'row 8',
    request: { headers: { 'content-encoding': 'gzip' }, body: gzipSync('{"jsonrpc":') },
    expect: { status: 200, error: { id: null, code: -32700, dataKeys: ['error'] } },
  },

  // Row 9: JSON that is not an object.
  {
    name: 'a JSON string is -32600 "must be an object"',
    row: 'row 9',
    request: { body: '"hello"' },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: {
          code: -32600,
          message: 'Invalid request',
          data: { error: 'JSON-RPC request must be an object', received_type: 'str' },
        },
        id: null,
      },
    },
  },
  {
    name: 'a float is received_type float',
    row: 'row 9',
    request: { body: '1.0' },
    expect: {
      status: 200,
      error: {
        id: null,
        code: -32600,
        dataKeys: ['error', 'received_type'],
        data: { received_type: 'float' },
      },
    },
  },
  {
    name: 'null is received_type NoneType',
    row: 'row 9',
    request: { body: 'null' },
    expect: {
      status: 200,
      error: {
        id: null,
        code: -32600,
        dataKeys: ['error', 'received_type'],
        data: { received_type: 'NoneType' },
      },
    },
  },
  {
    name: 'an array at /asap/stream is not a batch',
    row: 'row 9',
    request: { path: '/asap/stream', body: [rpc(envelope())] },
    expect: {
      status: 200,
      error: {
        id: null,
        code: -32600,
        dataKeys: ['error', 'received_type'],
        data: { error: 'JSON-RPC request must be an object', received_type: 'list' },
      },
    },
  },
  {
    name: 'a compressed array is not a batch',
    row: '§2.6',
    request: { headers: { 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify([rpc(ping('e'))])) },
    expect: {
      status: 200,
      error: {
        id: null,
        code: -32600,
        dataKeys: ['error', 'received_type'],
        data: { error: 'JSON-RPC request must be an object', received_type: 'list' },
      },
    },
  },

  // Row 10: JSON-RPC structure.
  {
    name: 'a notification (no id) is -32600 with id null',
    row: 'row 10',
    request: { body: { jsonrpc: '2.0', method: 'asap.send', params: {} } },
    expect: {
      status: 200,
      error: {
        id: null,
        code: -32600,
        dataKeys: STRUCTURE,
        data: { error: 'Invalid JSON-RPC structure' },
        issues: [['missing', ['id'], 'Field required']],
      },
    },
  },
  {
    name: 'id null is -32600',
    row: 'row 10',
    request: { body: { jsonrpc: '2.0', method: 'asap.send', params: {}, id: null } },
    expect: {
      status: 200,
      error: {
        id: null,
        code: -32600,
        dataKeys: STRUCTURE,
        issues: [
          ['string_type', ['id', 'str']],
          ['int_type', ['id', 'int']],
        ],
      },
    },
  },
  {
    name: 'an unknown top-level key is -32600 and keeps the id',
    row: 'row 10',
    request: { body: { ...rpc(envelope()), extra: 1 } },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32600,
        dataKeys: STRUCTURE,
        issues: [['extra_forbidden', ['extra'], 'Extra inputs are not permitted']],
      },
    },
  },
  {
    name: 'jsonrpc other than "2.0" is -32600',
    row: 'row 10',
    request: { body: { ...rpc(envelope(), 'j'), jsonrpc: '1.0' } },
    expect: {
      status: 200,
      error: { id: 'j', code: -32600, dataKeys: STRUCTURE, issues: [['literal_error', ['jsonrpc']]] },
    },
  },
  {
    name: 'a missing method is -32600',
    row: 'row 10',
    request: { body: { jsonrpc: '2.0', params: {}, id: 'm' } },
    expect: {
      status: 200,
      error: { id: 'm', code: -32600, dataKeys: STRUCTURE, issues: [['missing', ['method']]] },
    },
  },
  {
    name: 'params that are not an object are -32602',
    row: 'row 10',
    request: { body: { jsonrpc: '2.0', method: 'asap.send', params: [1], id: 3 } },
    expect: {
      status: 200,
      error: {
        id: 3,
        code: -32602,
        dataKeys: STRUCTURE,
        data: { error: "JSON-RPC 'params' must be an object" },
        issues: [['dict_type', ['params']]],
      },
    },
  },
  {
    name: 'an id that is neither string nor integer ends as -32603 with id "" (as the reference)',
    row: 'row 10',
    request: { body: '{"jsonrpc":"2.0","method":"asap.send","params":{},"id":1.5}' },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: { code: -32603, message: 'Internal error', data: { error: 'Internal server error' } },
        id: '',
      },
    },
  },

  // Row 11: method.
  {
    name: 'a method other than asap.send is -32601 with the method',
    row: 'row 11',
    request: { body: { jsonrpc: '2.0', method: 'asap.sned', params: {}, id: 'x' } },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: { code: -32601, message: 'Method not found', data: { method: 'asap.sned' } },
        id: 'x',
      },
    },
  },

  {
    name: 'manifest bearer auth',
    row: 'row 12',
    skip: "Baton's manifest declares no auth and the server has no token validator",
  },

  // Row 13: the envelope.
  {
    name: 'a missing envelope is -32602',
    row: 'row 13',
    request: { body: { jsonrpc: '2.0', method: 'asap.send', params: {}, id: 1 } },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: { code: -32602, message: 'Invalid params', data: { error: "Missing 'envelope' in params" } },
        id: 1,
      },
    },
  },
  {
    name: 'a null envelope is missing',
    row: 'row 13',
    request: { body: rpc(null, 2) },
    expect: {
      status: 200,
      error: { id: 2, code: -32602, dataKeys: ['error'], data: { error: "Missing 'envelope' in params" } },
    },
  },
  {
    name: 'an envelope that is not an object is -32602',
    row: 'row 13',
    request: { body: rpc('nope') },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32602,
        dataKeys: ['error'],
        data: { error: "'envelope' must be a JSON object" },
      },
    },
  },
  {
    name: 'a sender that is not an agent URN is -32602',
    row: '§0.5',
    request: { body: rpc(envelope({ sender: 'urn:asap:agent:Bad_Name' })) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32602,
        dataKeys: STRUCTURE,
        data: { error: 'Invalid envelope structure' },
        issues: [
          [
            'value_error',
            ['sender'],
            "Value error, Agent ID must follow URN format 'urn:asap:agent:{name}', got: urn:asap:agent:Bad_Name",
          ],
        ],
      },
    },
  },
  {
    name: 'a recipient with an underscore is -32602',
    row: '§0.5',
    request: { body: rpc(envelope({ recipient: 'urn:asap:agent:baton_test' })) },
    expect: {
      status: 200,
      error: { id: 'req-1', code: -32602, dataKeys: STRUCTURE, issues: [['value_error', ['recipient']]] },
    },
  },
  {
    name: 'an unknown envelope key is -32602',
    row: '§0.4',
    request: { body: rpc(envelope({ priority: 'high' })) },
    expect: {
      status: 200,
      error: { id: 'req-1', code: -32602, dataKeys: STRUCTURE, issues: [['extra_forbidden', ['priority']]] },
    },
  },
  {
    name: 'an integer envelope id is -32602',
    row: 'row 13',
    request: { body: rpc(envelope({ id: 42 })) },
    expect: {
      status: 200,
      error: { id: 'req-1', code: -32602, dataKeys: STRUCTURE, issues: [['string_type', ['id']]] },
    },
  },
  {
    name: 'payload issues are located inside the payload, without a payload prefix',
    row: 'row 13',
    request: { body: rpc(envelope({ payload: { skill_id: 'test.echo' } })) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32602,
        dataKeys: STRUCTURE,
        issues: [
          ['missing', ['conversation_id']],
          ['missing', ['input']],
        ],
      },
    },
  },
  {
    name: 'an unknown TaskRequest key is -32602',
    row: '§0.4',
    request: {
      body: rpc(envelope({ payload: { conversation_id: 'c', skill_id: 'test.echo', input: {}, extra: 1 } })),
    },
    expect: {
      status: 200,
      error: { id: 'req-1', code: -32602, dataKeys: STRUCTURE, issues: [['extra_forbidden', ['extra']]] },
    },
  },
  {
    name: 'an unknown TaskRequest.config key is -32602 before the handler',
    row: '§0.4',
    request: { body: rpc(taskRequest('test.echo', {}, { retries: 3 })) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32602,
        dataKeys: STRUCTURE,
        data: { error: 'Invalid envelope structure' },
        issues: [['extra_forbidden', ['config', 'retries']]],
      },
    },
  },
  {
    name: 'a task.response without correlation_id is -32602',
    row: '§0.3',
    request: {
      body: rpc(envelope({ payload_type: 'task.response', payload: { task_id: 't', status: 'completed' } })),
    },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32602,
        dataKeys: STRUCTURE,
        issues: [
          ['value_error', [], 'Value error, task.response must have correlation_id for request tracking'],
        ],
      },
    },
  },
  {
    name: 'a truthy payload_type that is not a string ends as -32603 with id "" (as the reference)',
    row: 'row 13',
    request: { body: rpc(envelope({ payload_type: 5 })) },
    expect: { status: 200, error: { id: '', code: -32603, dataKeys: ['error'] } },
  },

  {
    name: 'sender must match the authenticated identity',
    row: 'row 14',
    skip: 'needs manifest bearer auth (row 12), which Baton does not implement',
  },

  // Row 15: the timestamp window, against a fixed clock.
  {
    name: 'exactly 300 s old passes',
    row: 'row 15',
    server: CLOCK,
    request: { body: stamped('2026-07-21T12:00:00.123Z', 't300') },
    expect: { status: 200, ...pong('t300', 't300') },
  },
  {
    name: 'exactly 30 s ahead passes',
    row: 'row 15',
    server: CLOCK,
    request: { body: stamped('2026-07-21T12:05:30.123000+00:00', 't30') },
    expect: { status: 200, ...pong('t30', 't30') },
  },
  {
    name: 'a naive timestamp is UTC',
    row: 'row 15',
    server: CLOCK,
    request: { body: stamped('2026-07-21T12:05:00.123', 'tnaive') },
    expect: { status: 200, ...pong('tnaive', 'tnaive') },
  },
  {
    name: 'an offset timestamp is compared as the instant it names',
    row: 'row 15',
    server: CLOCK,
    request: { body: stamped('2026-07-21T14:05:00.123+02:00', 'toffset') },
    expect: { status: 200, ...pong('toffset', 'toffset') },
  },
  {
    name: 'a Unix timestamp (seconds) parses',
    row: 'row 15',
    server: CLOCK,
    request: { body: rpc(ping('tunix', { timestamp: Date.parse(NOW) / 1000 - 10 }), 'tunix') },
    expect: { status: 200, ...pong('tunix', 'tunix') },
  },
  {
    name: 'a missing timestamp is "now" and passes',
    row: 'row 15',
    server: CLOCK,
    request: { body: stamped(undefined, 'tnone') },
    expect: { status: 200, ...pong('tnone', 'tnone') },
  },
  {
    name: 'older than 300 s is -32002',
    row: 'row 15',
    server: CLOCK,
    request: { body: stamped('2026-07-21T12:00:00.122Z', 'env-old') },
    expect: {
      status: 200,
      error: {
        id: 'env-old',
        code: -32002,
        message: 'Envelope timestamp is too old: 300.0 seconds (max: 300 seconds)',
        dataKeys: ASAP_DATA_RETRY,
        detailsKeys: ['age_seconds', 'envelope_id', 'max_age_seconds', 'timestamp'],
        data: {
          code: 'asap:protocol/invalid_timestamp',
          details: {
            timestamp: '2026-07-21T12:00:00.122000+00:00',
            age_seconds: 300.001,
            envelope_id: 'env-old',
            max_age_seconds: 300,
          },
          retry_after_ms: 5000,
          fallback_action: 'resend_with_fresh_timestamp',
          recoverable: true,
          error: 'Invalid envelope timestamp',
        },
      },
    },
  },
  {
    name: 'more than 30 s ahead is -32002',
    row: 'row 15',
    server: CLOCK,
    request: { body: stamped('2026-07-21T12:05:30.124Z', 'env-future') },
    expect: {
      status: 200,
      error: {
        id: 'env-future',
        code: -32002,
        message: 'Envelope timestamp is too far in the future: 30.0 seconds (max tolerance: 30 seconds)',
        dataKeys: ASAP_DATA_RETRY,
        detailsKeys: ['envelope_id', 'future_offset_seconds', 'max_future_tolerance_seconds', 'timestamp'],
        data: {
          details: {
            timestamp: '2026-07-21T12:05:30.124000+00:00',
            future_offset_seconds: 30.001,
            envelope_id: 'env-future',
            max_future_tolerance_seconds: 30,
          },
          recoverable: true,
        },
      },
    },
  },

  // Row 16: nonces, with requireNonce.
  {
    name: 'a repeated nonce is -32003',
    row: 'row 16',
    server: NONCE,
    given: [{ body: withNonce('n-dup', 'e-1') }],
    request: { body: withNonce('n-dup', 'e-2') },
    expect: {
      status: 200,
      error: {
        id: 'e-2',
        code: -32003,
        message: 'Duplicate nonce detected: n-dup',
        dataKeys: ASAP_DATA,
        detailsKeys: ['envelope_id', 'nonce'],
        data: {
          code: 'asap:protocol/invalid_nonce',
          details: { nonce: 'n-dup', envelope_id: 'e-2' },
          recoverable: false,
          asap_taxonomy_code: 'asap:protocol/invalid_nonce',
          error: 'Invalid envelope nonce',
        },
      },
    },
  },
  {
    name: 'an empty nonce is -32003',
    row: 'row 16',
    server: NONCE,
    request: { body: withNonce('', 'e-3') },
    expect: {
      status: 200,
      error: {
        id: 'e-3',
        code: -32003,
        message: 'Nonce must be a non-empty string, got empty string',
        dataKeys: ASAP_DATA,
        detailsKeys: ['envelope_id', 'nonce'],
      },
    },
  },
  {
    name: 'a non-string nonce is -32003',
    row: 'row 16',
    server: NONCE,
    request: { body: withNonce(42, 'e-4') },
    expect: {
      status: 200,
      error: {
        id: 'e-4',
        code: -32003,
        message: 'Nonce must be a non-empty string, got int',
        dataKeys: ASAP_DATA,
        data: { details: { nonce: '42', envelope_id: 'e-4' } },
      },
    },
  },
  {
    name: 'new nonces pass',
    row: 'row 16',
    server: NONCE,
    given: [{ body: withNonce('n-a', 'e-5') }],
    request: { body: withNonce('n-b', 'e-6') },
    expect: { status: 200, ...pong('e-6', 'e-6') },
  },
  {
    name: 'no nonce passes, repeatedly: nonces are never mandatory',
    row: 'row 16',
    server: NONCE,
    given: [{ body: rpc(ping('e-7'), 'e-7') }],
    request: { body: rpc(ping('e-7'), 'e-7') },
    expect: { status: 200, ...pong('e-7', 'e-7') },
  },
  {
    name: 'without requireNonce a repeated nonce passes',
    row: 'row 16',
    given: [{ body: withNonce('same', 'e-8') }],
    request: { body: withNonce('same', 'e-8') },
    expect: { status: 200, ...pong('e-8', 'e-8') },
  },

  // Row 17: dispatch.
  {
    name: 'a payload_type without a handler is -32012',
    row: 'row 17',
    request: { body: rpc(envelope({ payload_type: 'weather.query', payload: {} }), 5) },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: {
          code: -32012,
          message: 'No handler registered for payload type: weather.query',
          data: {
            code: 'asap:transport/handler_not_found',
            rpc_code: -32012,
            message: 'No handler registered for payload type: weather.query',
            details: { payload_type: 'weather.query' },
            recoverable: false,
            asap_taxonomy_code: 'asap:transport/handler_not_found',
            error: 'No handler registered for payload type: weather.query',
          },
        },
        id: 5,
      },
    },
  },
  {
    name: 'a payload_type without a streaming handler is -32012 at /asap/stream',
    row: 'row 17',
    request: { path: '/asap/stream', body: call('task.cancel', { task_id: 'x' }) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32012,
        message: 'No handler registered for payload type: task.cancel',
        dataKeys: ASAP_DATA,
        detailsKeys: ['payload_type'],
        data: { error: 'No streaming handler registered for payload type' },
      },
    },
  },
  {
    name: 'a normalised payload_type finds the handler (Baton is more permissive, as §3 advises)',
    row: '§0.2',
    request: { body: rpc(envelope({ id: 'env-norm', payload_type: 'TaskRequest' }), 'norm') },
    expect: {
      status: 200,
      result: { id: 'norm', payloadType: 'task.response', correlationId: 'env-norm', status: 'completed' },
    },
  },

  {
    name: 'bounded thread pool full (HTTP 503)',
    row: 'row 18',
    skip: 'handlers run on the event loop; Baton has no bounded pool, so -32031 is never sent',
  },

  // Row 19: handlers raising ASAP errors (Baton's and a user's).
  {
    name: 'task.cancel of an unknown task is -32010',
    row: '-32010',
    request: { body: call('task.cancel', { task_id: 'task_NOPE' }) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32010,
        message: 'Task not found: task_NOPE',
        dataKeys: ASAP_DATA,
        detailsKeys: ['task_id'],
        data: { code: 'asap:task/not_found', details: { task_id: 'task_NOPE' }, recoverable: false },
      },
    },
  },
  {
    name: 'state_query of an unknown task is -32010',
    row: '-32010',
    request: { body: call('state_query', { task_id: 'task_NOPE' }) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32010,
        message: 'Task not found: task_NOPE',
        dataKeys: ASAP_DATA,
        detailsKeys: ['task_id'],
      },
    },
  },
  {
    name: 'state_query of a state version that is not the latest is -32010',
    row: '-32010',
    request: { body: call('state_query', { task_id: '$FINISHED_TASK', version: 1 }) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32010,
        message: /^Task \$FINISHED_TASK has no state version 1 \(the latest is \d+\)$/,
        dataKeys: ASAP_DATA,
        detailsKeys: ['task_id', 'version'],
      },
    },
  },
  {
    name: 'task.cancel of a finished task is -32030 with its status',
    row: '-32030',
    request: { body: call('task.cancel', { task_id: '$FINISHED_TASK' }) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32030,
        message: 'Task already completed: $FINISHED_TASK (status: completed)',
        dataKeys: ASAP_DATA,
        detailsKeys: ['current_status', 'task_id'],
        data: {
          code: 'asap:task/already_completed',
          details: { task_id: '$FINISHED_TASK', current_status: 'completed' },
        },
      },
    },
  },
  {
    name: "a handler's ConflictError is -32000 invalid_state",
    row: '-32000',
    request: { body: call('conformance.conflict', {}) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32000,
        message: 'task is already done',
        dataKeys: ASAP_DATA,
        detailsKeys: [],
        data: { code: 'asap:protocol/invalid_state', recoverable: false },
      },
    },
  },
  {
    name: 'an AsapError keeps its code, message and recovery hints',
    row: 'row 19',
    request: { body: call('conformance.asap-error', {}) },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: {
          code: -32033,
          message: 'upstream too slow',
          data: {
            code: 'asap:transport/timeout',
            rpc_code: -32033,
            message: 'upstream too slow',
            details: { timeout_seconds: 3 },
            fallback_action: 'retry_with_backoff',
            recoverable: true,
            asap_taxonomy_code: 'asap:transport/timeout',
            error: 'upstream too slow',
          },
        },
        id: 'req-1',
      },
    },
  },
  {
    name: 'task.request of an unknown skill is -32602 (Baton: not_found)',
    row: 'row 19',
    request: { body: rpc(taskRequest('test.nope', {})) },
    expect: { status: 200, error: { id: 'req-1', code: -32602, dataKeys: ['error'] } },
  },
  {
    name: 'task.request of an input the template refuses is -32602 with details (Baton: validation_failed)',
    row: 'row 19',
    request: { body: rpc(taskRequest('test.slow', { ms: 'soon' })) },
    expect: { status: 200, error: { id: 'req-1', code: -32602, dataKeys: ['details', 'error'] } },
  },
  {
    name: 'a malformed envelope (-32001)',
    row: '-32001',
    skip: 'the server never raises it: it is the client-side correlation check (and the WebSocket rate limit)',
  },

  // Row 20: anything else.
  {
    name: 'any other handler error is -32603 without details',
    row: 'row 20',
    request: { body: call('conformance.boom', {}) },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: { code: -32603, message: 'Internal error', data: { error: 'Internal server error' } },
        id: 'req-1',
      },
    },
  },
  {
    name: 'in debug mode -32603 carries error, type and traceback',
    row: 'row 20',
    server: { debug: true },
    request: { body: call('conformance.boom', {}) },
    expect: {
      status: 200,
      error: {
        id: 'req-1',
        code: -32603,
        dataKeys: ['error', 'traceback', 'type'],
        data: { error: 'secret internals', type: 'Error' },
      },
    },
  },

  // §2.7: /asap/stream.
  {
    name: 'a stream answers text/event-stream with data: lines only',
    row: '§2.7',
    request: { path: '/asap/stream', body: rpc(taskRequest('test.echo', { message: 's' })) },
    expect: {
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' },
      text: /^(data: \{[^\n]*"payload_type":"TaskStream"[^\n]*\}\n\n)+$/,
    },
  },
  {
    name: 'a failure before the stream starts is a JSON-RPC error at HTTP 200',
    row: '§2.7',
    request: { path: '/asap/stream', body: rpc(taskRequest('test.nope', {})) },
    expect: { status: 200, error: { id: 'req-1', code: -32602, dataKeys: ['error'] } },
  },
  {
    name: 'a parse error at /asap/stream is -32700',
    row: '§2.7',
    request: { path: '/asap/stream', body: '{' },
    expect: { status: 200, error: { id: null, code: -32700, dataKeys: ['error'] } },
  },

  // §2.6: batches.
  {
    name: 'an empty batch is one -32600, id null',
    row: '§2.6',
    request: { body: '[]' },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: { code: -32600, message: 'Invalid request', data: { reason: 'empty batch' } },
        id: null,
      },
    },
  },
  {
    name: 'a batch over 50 is one -32600, id null',
    row: '§2.6',
    request: { body: [...BATCH_50, rpc(ping('env-50'), 'req-50')] },
    expect: {
      status: 200,
      body: {
        jsonrpc: '2.0',
        error: { code: -32600, message: 'Invalid request', data: { reason: 'batch size 51 exceeds max 50' } },
        id: null,
      },
    },
  },
  {
    name: '50 requests are answered in order, each bound to its request',
    row: '§2.6',
    request: { body: BATCH_50 },
    expect: { status: 200, batch: BATCH_50.map((_, n) => pong(`req-${n}`, `env-${n}`)) },
  },
  {
    name: 'each item runs the whole pipeline on its own',
    row: '§2.6',
    request: {
      headers: { 'asap-version': '2.1' },
      body: [
        rpc(ping('b-1'), 'b-1'),
        42,
        { jsonrpc: '2.0', method: 'other', params: {}, id: 'm' },
        { jsonrpc: '2.0', method: 'asap.send', params: { envelope: ping('b-n') } },
        rpc(envelope({ sender: 'not-a-urn' }), 'bad-envelope'),
        rpc(envelope({ payload_type: 'unknown.type', payload: {} }), 'no-handler'),
        rpc(envelope({ timestamp: '2020-01-01T00:00:00Z' }), 'stale'),
        rpc(ping('b-2'), 'b-2'),
      ],
    },
    expect: {
      status: 200,
      headers: { 'asap-version': '2.1' },
      batch: [
        pong('b-1', 'b-1'),
        {
          json: { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request', data: null }, id: null },
        },
        { error: { id: 'm', code: -32601, dataKeys: ['method'], data: { method: 'other' } } },
        { error: { id: null, code: -32600, dataKeys: STRUCTURE, issues: [['missing', ['id']]] } },
        { error: { id: 'bad-envelope', code: -32602, dataKeys: STRUCTURE } },
        { error: { id: 'no-handler', code: -32012, dataKeys: ASAP_DATA, detailsKeys: ['payload_type'] } },
        { error: { id: 'stale', code: -32002, dataKeys: ASAP_DATA_RETRY } },
        pong('b-2', 'b-2'),
      ],
    },
  },

  // §4: the manifest.
  {
    name: 'the manifest is served with every key, an ETag and Cache-Control',
    row: '§4',
    request: { method: 'GET', path: '/.well-known/asap/manifest.json' },
    expect: {
      status: 200,
      headers: { etag: '$ETAG', 'cache-control': 'public, max-age=300' },
      keys: [
        'auth',
        'capabilities',
        'description',
        'endpoints',
        'id',
        'name',
        'signature',
        'sla',
        'supported_versions',
        'ttl_seconds',
        'verification',
        'version',
      ],
    },
  },
  {
    name: 'If-None-Match with the ETag is 304 with the same headers',
    row: '§4',
    request: {
      method: 'GET',
      path: '/.well-known/asap/manifest.json',
      headers: { 'if-none-match': '$ETAG' },
    },
    expect: {
      status: 304,
      headers: { etag: '$ETAG', 'cache-control': 'public, max-age=300', 'content-type': null },
      text: '',
    },
  },
  {
    name: 'If-None-Match may be a list',
    row: '§4',
    request: {
      method: 'GET',
      path: '/.well-known/asap/manifest.json',
      headers: { 'if-none-match': '"other", $ETAG' },
    },
    expect: { status: 304, headers: { etag: '$ETAG', 'content-type': null }, text: '' },
  },
  {
    name: 'If-None-Match with a weak tag or * is 304',
    row: '§4',
    request: {
      method: 'GET',
      path: '/.well-known/asap/manifest.json',
      headers: { 'if-none-match': 'W/$ETAG' },
    },
    expect: { status: 304, headers: { etag: '$ETAG', 'content-type': null }, text: '' },
  },
  {
    name: 'If-None-Match * is 304',
    row: '§4',
    request: { method: 'GET', path: '/.well-known/asap/manifest.json', headers: { 'if-none-match': '*' } },
    expect: { status: 304, headers: { etag: '$ETAG', 'content-type': null }, text: '' },
  },
  {
    name: 'If-None-Match with another tag is 200',
    row: '§4',
    request: {
      method: 'GET',
      path: '/.well-known/asap/manifest.json',
      headers: { 'if-none-match': '"other"' },
    },
    expect: { status: 200, headers: { etag: '$ETAG' } },
  },

  // §5.6: health.
  {
    name: '/health is {"status":"ok"}',
    row: '§5.6',
    request: { method: 'GET', path: '/health' },
    expect: { status: 200, body: { status: 'ok' } },
  },
  {
    name: '/ready is {"status":"ok"}',
    row: '§5.6',
    request: { method: 'GET', path: '/ready' },
    expect: { status: 200, body: { status: 'ok' } },
  },
  {
    name: '/.well-known/asap/health describes the agent',
    row: '§5.6',
    server: CLOCK,
    request: { method: 'GET', path: '/.well-known/asap/health' },
    expect: {
      status: 200,
      body: {
        status: 'healthy',
        agent_id: AGENT,
        version: '$VERSION',
        asap_version: '0.1',
        uptime_seconds: 0,
        load: null,
      },
    },
  },
  {
    name: 'an unknown route is 404 and still carries ASAP-Version',
    row: '§2.5',
    request: { method: 'GET', path: '/nowhere' },
    expect: { status: 404 },
  },
];

// ── The loop ─────────────────────────────────────────────────────────────────

const groups = new Map<string, (WireCase | SkipCase)[]>();
for (const wire of CASES) {
  const key = JSON.stringify('server' in wire ? (wire.server ?? {}) : {});
  groups.set(key, [...(groups.get(key) ?? []), wire]);
}

for (const [key, cases] of groups) {
  const variant = JSON.parse(key) as ServerVariant;
  describe(`ASAP wire conformance, server ${key}`, () => {
    const now = variant.now === undefined ? undefined : Date.parse(variant.now);
    const server = serverFixture({
      server: {
        config: {
          ...(variant.requireNonce !== undefined ? { requireNonce: variant.requireNonce } : {}),
          ...(variant.maxRequestBytes !== undefined ? { maxRequestBytes: variant.maxRequestBytes } : {}),
          ...(variant.debug !== undefined ? { debug: variant.debug } : {}),
        },
        ...(now !== undefined ? { now: () => now } : {}),
      },
    });
    const context: Partial<Context> = {};

    before(async () => {
      registerTestHandlers(server.app);
      Object.assign(context, await contextOf(server.app, server.engine));
    });

    for (const wire of cases) {
      const title = `${wire.row}: ${wire.name}`;
      if ('skip' in wire) {
        test(title, { skip: wire.skip }, () => {});
        continue;
      }
      test(title, async () => {
        for (const given of wire.given ?? []) await send(server.app, substitute(given, context));
        const response = await send(server.app, substitute(wire.request, context));
        check(response, substitute(wire.expect, context));
      });
    }
  });
}

function registerTestHandlers(app: FastifyInstance): void {
  app.asap.register(PING, (request, ctx) => ctx.reply('conformance.pong', request.payload));
  app.asap.register('conformance.asap-error', () => {
    throw new AsapError(ASAP_ERRORS.timeout, {
      message: 'upstream too slow',
      details: { timeout_seconds: 3 },
    });
  });
  app.asap.register('conformance.conflict', () => {
    throw new ConflictError('task is already done');
  });
  app.asap.register('conformance.boom', () => {
    throw new Error('secret internals');
  });
}

async function contextOf(app: FastifyInstance, engine: Engine): Promise<Context> {
  const { task } = await engine.startTask({ template: 'test.echo', input: {} });
  await engine.waitForTask(task.id, { timeoutMs: 5000 });
  const manifest = await app.inject({ url: '/.well-known/asap/manifest.json' });
  const body = manifest.json<{ version: string }>();
  return {
    $FINISHED_TASK: task.id,
    $ETAG: `"${createHash('sha256').update(sortedJson(body)).digest('hex')}"`,
    $VERSION: body.version,
  };
}

/** JSON with the keys of every object sorted (what the manifest ETag hashes, §4). */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${sortedJson(object[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `value` with every placeholder of `context` replaced, in strings and RegExp sources. */
function substitute<T>(value: T, context: Partial<Context>): T {
  const replace = (text: string, escape: boolean): string =>
    Object.entries(context).reduce(
      (out, [name, actual]) =>
        out.replaceAll(
          escape ? `\\${name}` : name,
          escape ? actual.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : actual,
        ),
      text,
    );
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return replace(item, false);
    if (item instanceof RegExp) return new RegExp(replace(item.source, true), item.flags);
    if (Buffer.isBuffer(item) || item === null || typeof item !== 'object') return item;
    if (Array.isArray(item)) return item.map(walk);
    return Object.fromEntries(Object.entries(item).map(([key, entry]) => [key, walk(entry)]));
  };
  return walk(value) as T;
}

interface Sent {
  status: number;
  headers: Record<string, unknown>;
  text: string;
}

async function send(app: FastifyInstance, request: WireRequest): Promise<Sent> {
  const { body } = request;
  let payload: InjectOptions['payload'];
  if (body === undefined) payload = undefined;
  else if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body;
  else payload = JSON.stringify(body);
  const headers = { ...request.headers };
  if (request.chunked === true) {
    headers['transfer-encoding'] = 'chunked';
    payload = Readable.from([Buffer.from(payload as string | Buffer)]);
  }
  const response = await app.inject({
    method: request.method ?? 'POST',
    url: request.path ?? '/asap',
    headers,
    ...(payload !== undefined ? { payload } : {}),
  });
  return { status: response.statusCode, headers: response.headers, text: response.body };
}

function check(response: Sent, expect: Expect): void {
  const context = `HTTP ${response.status} ${response.text.slice(0, 300)}`;
  assert.equal(response.status, expect.status, context);
  const headers: Record<string, string | RegExp | null> = {
    'asap-version': DEFAULT_VERSION,
    'content-type': JSON_TYPE,
    ...expect.headers,
  };
  for (const [name, value] of Object.entries(headers)) {
    const actual = response.headers[name];
    if (value === null) assert.equal(actual, undefined, `header ${name} is absent`);
    else if (value instanceof RegExp) assert.match(String(actual), value, `header ${name}`);
    else assert.equal(actual, value, `header ${name}`);
  }
  if (expect.text !== undefined) {
    if (expect.text === '') assert.equal(response.text, '');
    else assert.match(response.text, expect.text);
  }
  const needsJson =
    expect.body !== undefined ||
    expect.error !== undefined ||
    expect.result !== undefined ||
    expect.batch !== undefined ||
    expect.detail !== undefined ||
    expect.keys !== undefined;
  if (!needsJson) return;
  const json = JSON.parse(response.text) as unknown;
  if (expect.body !== undefined) assert.deepEqual(json, expect.body);
  if (expect.keys !== undefined) assert.deepEqual(sortedKeys(json), expect.keys);
  if (expect.detail !== undefined) {
    assert.deepEqual(sortedKeys(json), ['detail']);
    const detail = (json as { detail: unknown }).detail;
    if (expect.detail instanceof RegExp) assert.match(String(detail), expect.detail);
    else assert.equal(detail, expect.detail);
  }
  if (expect.error !== undefined) checkError(json, expect.error);
  if (expect.result !== undefined) checkResult(json, expect.result);
  if (expect.batch !== undefined) {
    assert.ok(Array.isArray(json), 'a batch answer is an array');
    assert.equal(json.length, expect.batch.length);
    expect.batch.forEach((item, index) => {
      const actual: unknown = json[index];
      if ('json' in item) assert.deepEqual(actual, item.json, `item ${index}`);
      else if ('error' in item) checkError(actual, item.error);
      else checkResult(actual, item.result);
    });
  }
}

function checkError(json: unknown, expect: RpcErrorExpect): void {
  const body = json as {
    jsonrpc: unknown;
    id: unknown;
    error: { code: number; message: string; data: unknown };
  };
  assert.deepEqual(sortedKeys(body), ['error', 'id', 'jsonrpc'], JSON.stringify(body));
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, expect.id);
  const { error } = body;
  assert.deepEqual(sortedKeys(error), ['code', 'data', 'message']);
  assert.equal(error.code, expect.code, JSON.stringify(error));
  const message = expect.message ?? FIXED_MESSAGES[expect.code];
  if (message instanceof RegExp) assert.match(error.message, message);
  else if (message !== undefined) assert.equal(error.message, message);
  if (expect.dataKeys === null) {
    assert.equal(error.data, null);
    return;
  }
  const data = error.data as JsonObject;
  assert.deepEqual(sortedKeys(data), expect.dataKeys, JSON.stringify(data));
  for (const [name, value] of Object.entries(expect.data ?? {}))
    assert.deepEqual(data[name], value, `data.${name}`);
  if ('rpc_code' in data) assert.equal(data.rpc_code, error.code);
  if ('message' in data) assert.equal(data.message, error.message);
  if ('asap_taxonomy_code' in data) assert.equal(data.asap_taxonomy_code, data.code);
  if (expect.detailsKeys !== undefined) assert.deepEqual(sortedKeys(data.details), expect.detailsKeys);
  if (expect.issues !== undefined) {
    const issues = data.validation_errors as { type: string; loc: unknown[]; msg: string }[];
    assert.deepEqual(
      issues.map((issue) => [issue.type, issue.loc]),
      expect.issues.map(([type, loc]) => [type, loc]),
    );
    expect.issues.forEach(([, , msg], index) => {
      if (msg !== undefined) assert.equal(issues[index]?.msg, msg);
    });
    for (const issue of issues) {
      for (const name of ['type', 'loc', 'msg', 'input', 'url'])
        assert.ok(name in issue, `issue has ${name}`);
      for (const name of Object.keys(issue)) assert.ok(ISSUE_KEYS.has(name), `issue key ${name}`);
    }
  }
}

function checkResult(json: unknown, expect: RpcResultExpect): void {
  const body = json as { jsonrpc: unknown; id: unknown; result: { envelope: JsonObject } };
  assert.deepEqual(sortedKeys(body), ['id', 'jsonrpc', 'result'], JSON.stringify(body));
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, expect.id);
  assert.deepEqual(sortedKeys(body.result), ['envelope'], 'result has only the envelope');
  const reply = body.result.envelope;
  assert.deepEqual(sortedKeys(reply), ENVELOPE_KEYS, 'the reply envelope has every field');
  assert.equal(reply.payload_type, expect.payloadType);
  assert.equal(reply.correlation_id, expect.correlationId);
  assert.equal(reply.sender, AGENT);
  assert.equal(reply.recipient, CLIENT);
  assert.equal(reply.asap_version, '0.1');
  if (expect.traceId !== undefined) assert.equal(reply.trace_id, expect.traceId);
  if (expect.status !== undefined) assert.equal((reply.payload as JsonObject).status, expect.status);
  if (expect.payload !== undefined) assert.deepEqual(reply.payload, expect.payload);
}

function sortedKeys(value: unknown): string[] {
  assert.ok(
    value !== null && typeof value === 'object' && !Array.isArray(value),
    `an object: ${JSON.stringify(value)}`,
  );
  return Object.keys(value).sort();
}
