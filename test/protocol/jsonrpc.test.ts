import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brotliCompressSync } from 'node:zlib';
import {
  checkJsonRpcRequest,
  envelopeErrorResponse,
  MAX_BATCH_SIZE,
  parseRequestBody,
  validateEnvelope,
  type JsonObject,
  type JsonRpcErrorResponse,
  type ParsedBody,
} from '../../src/protocol/index.ts';
import { requestWith, SHEET_REQUEST, summary, URL_PREFIX } from './fixtures.ts';

const REQUEST = { jsonrpc: '2.0', method: 'asap.send', params: { envelope: SHEET_REQUEST }, id: 'req-1' };

function errorOf(parsed: ParsedBody): JsonRpcErrorResponse {
  assert.ok(
    parsed.kind === 'error' || parsed.kind === 'batch_error',
    `expected an error, got ${parsed.kind}`,
  );
  return parsed.response;
}

function parse(body: unknown, allowBatch = true): ParsedBody {
  return parseRequestBody(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), {
    allowBatch,
  });
}

describe('request structure (§2.2)', () => {
  test('a well-formed request passes; params keeps extra keys (idempotency_key)', () => {
    const body = { ...REQUEST, params: { envelope: SHEET_REQUEST, idempotency_key: '01JQ...' } };
    const parsed = parse(body);
    assert.ok(parsed.kind === 'request');
    assert.deepEqual(parsed.request, body);
  });

  test('jsonrpc may be absent (it defaults to "2.0")', () => {
    const parsed = parse({ method: 'asap.send', params: {}, id: 1 });
    assert.ok(parsed.kind === 'request');
    assert.equal(parsed.request.jsonrpc, '2.0');
  });

  const notObjects: [string, string][] = [
    ['"x"', 'str'],
    ['1', 'int'],
    ['-0', 'int'],
    ['1.0', 'float'],
    ['1e3', 'float'],
    ['true', 'bool'],
    ['null', 'NoneType'],
  ];
  for (const [body, type] of notObjects) {
    test(`a body of ${body} is -32600 "must be an object" with received_type ${type}`, () => {
      assert.deepEqual(errorOf(parse(body)), {
        jsonrpc: '2.0',
        error: {
          code: -32600,
          message: 'Invalid request',
          data: { error: 'JSON-RPC request must be an object', received_type: type },
        },
        id: null,
      });
    });
  }

  test('an array where batches are not allowed (/asap/stream, compressed body) is a "list"', () => {
    const response = errorOf(parse([REQUEST], false));
    assert.deepEqual(response.error.data, {
      error: 'JSON-RPC request must be an object',
      received_type: 'list',
    });
  });

  /** [body changes, code, expected issues, response id]. */
  const structure: [JsonObject, number, [string, string][], unknown][] = [
    [{ jsonrpc: '1.0' }, -32600, [['literal_error', 'jsonrpc']], 'req-1'],
    [{ jsonrpc: null }, -32600, [['literal_error', 'jsonrpc']], 'req-1'],
    [{ method: undefined }, -32600, [['missing', 'method']], 'req-1'],
    [{ method: 5 }, -32600, [['string_type', 'method']], 'req-1'],
    [{ params: undefined }, -32600, [['missing', 'params']], 'req-1'],
    [{ params: [] }, -32602, [['dict_type', 'params']], 'req-1'],
    [{ params: null }, -32602, [['dict_type', 'params']], 'req-1'],
    [
      { params: 'x', method: 1 },
      -32602,
      [
        ['string_type', 'method'],
        ['dict_type', 'params'],
      ],
      'req-1',
    ],
    [{ id: undefined }, -32600, [['missing', 'id']], null],
    [
      { id: null },
      -32600,
      [
        ['string_type', 'id.str'],
        ['int_type', 'id.int'],
      ],
      null,
    ],
    [
      { extra: 1, other: 2 },
      -32600,
      [
        ['extra_forbidden', 'extra'],
        ['extra_forbidden', 'other'],
      ],
      'req-1',
    ],
    [{ jsonrpc: '1.0', id: true }, -32600, [['literal_error', 'jsonrpc']], 1],
    [{ jsonrpc: '1.0', id: 7 }, -32600, [['literal_error', 'jsonrpc']], 7],
  ];
  for (const [changes, code, issues, id] of structure) {
    test(`${JSON.stringify(changes)} → ${code} ${issues.map(([type]) => type).join(', ')}, id ${JSON.stringify(id)}`, () => {
      const body: JsonObject = { ...REQUEST };
      for (const [key, value] of Object.entries(changes)) {
        if (value === undefined) delete body[key];
        else body[key] = value;
      }
      const response = errorOf(parse(body));
      assert.equal(response.error.code, code);
      assert.equal(response.error.message, code === -32602 ? 'Invalid params' : 'Invalid request');
      assert.equal(response.id, id);
      const data = response.error.data as { error: string; validation_errors: [] };
      assert.deepEqual(Object.keys(data), ['error', 'validation_errors']);
      assert.equal(
        data.error,
        code === -32602 ? "JSON-RPC 'params' must be an object" : 'Invalid JSON-RPC structure',
      );
      assert.deepEqual(summary(data.validation_errors), issues);
    });
  }

  test('structure issues are shaped like pydantic errors (missing carries the whole body)', () => {
    const body = { jsonrpc: '2.0', params: {}, id: 1 };
    const data = errorOf(parse(body)).error.data as { validation_errors: unknown[] };
    assert.deepEqual(data.validation_errors, [
      { type: 'missing', loc: ['method'], msg: 'Field required', input: body, url: `${URL_PREFIX}missing` },
    ]);
    const literal = errorOf(parse({ ...REQUEST, jsonrpc: '1.0' })).error.data as {
      validation_errors: unknown[];
    };
    assert.deepEqual(literal.validation_errors, [
      {
        type: 'literal_error',
        loc: ['jsonrpc'],
        msg: "Input should be '2.0'",
        input: '1.0',
        ctx: { expected: "'2.0'" },
        url: `${URL_PREFIX}literal_error`,
      },
    ]);
  });

  test('ids: strings and integers pass; booleans and integral floats become integers', () => {
    const cases: [unknown, string | number][] = [
      ['req-1', 'req-1'],
      ['', ''],
      [7, 7],
      [-3, -3],
      [true, 1],
      [false, 0],
    ];
    for (const [raw, id] of cases) {
      const parsed = parse({ ...REQUEST, id: raw });
      assert.ok(parsed.kind === 'request');
      assert.equal(parsed.request.id, id);
    }
    const float = parseRequestBody('{"jsonrpc":"2.0","method":"asap.send","params":{},"id":2.0}');
    assert.ok(float.kind === 'request');
    assert.equal(float.request.id, 2);
  });

  test('a non-integral or structured id breaks the reference answer: -32603 with id ""', () => {
    for (const id of [1.5, [1], { a: 1 }]) {
      assert.deepEqual(errorOf(parse({ ...REQUEST, id })), {
        jsonrpc: '2.0',
        error: { code: -32603, message: 'Internal error', data: { error: 'Internal server error' } },
        id: '',
      });
    }
  });

  test('a 1.5 id reports both union members when the answer can carry it (checkJsonRpcRequest issues)', () => {
    const check = checkJsonRpcRequest({ ...REQUEST, id: 1.5 });
    assert.ok(!check.ok);
    assert.equal(check.response.id, '');
  });

  test('method other than asap.send: -32601 with data.method and the request id', () => {
    for (const method of ['asap.receive', 'ASAP.SEND', '']) {
      assert.deepEqual(errorOf(parse({ ...REQUEST, method, id: 9 })), {
        jsonrpc: '2.0',
        error: { code: -32601, message: 'Method not found', data: { method } },
        id: 9,
      });
    }
  });
});

describe('params.envelope (§2.3 step 13)', () => {
  const answers: [unknown, JsonObject | null, number][] = [
    [undefined, { error: "Missing 'envelope' in params" }, -32602],
    [null, { error: "Missing 'envelope' in params" }, -32602],
    ['x', { error: "'envelope' must be a JSON object" }, -32602],
    [[SHEET_REQUEST], { error: "'envelope' must be a JSON object" }, -32602],
  ];
  for (const [envelope, data, code] of answers) {
    test(`envelope ${JSON.stringify(envelope)?.slice(0, 20)} → ${code} ${JSON.stringify(data)}`, () => {
      const result = validateEnvelope(envelope);
      assert.ok(!result.ok);
      assert.deepEqual(envelopeErrorResponse('req-1', result), {
        jsonrpc: '2.0',
        error: { code, message: 'Invalid params', data },
        id: 'req-1',
      });
    });
  }

  test('an invalid envelope: -32602 "Invalid envelope structure" with validation_errors', () => {
    const result = validateEnvelope(requestWith({ sender: 'urn:asap:agent:Bad' }));
    assert.ok(!result.ok);
    const response = envelopeErrorResponse(3, result);
    assert.equal(response.error.code, -32602);
    assert.equal(response.id, 3);
    const data = response.error.data as { error: string; validation_errors: { loc: unknown[] }[] };
    assert.equal(data.error, 'Invalid envelope structure');
    assert.deepEqual(data.validation_errors[0]?.loc, ['sender']);
  });

  test('the crash case answers -32603 with id ""', () => {
    const result = validateEnvelope(requestWith({ payload_type: 1 }));
    assert.ok(!result.ok);
    assert.deepEqual(envelopeErrorResponse('req-1', result), {
      jsonrpc: '2.0',
      error: { code: -32603, message: 'Internal error', data: { error: 'Internal server error' } },
      id: '',
    });
  });
});

describe("unreadable bodies (§2.3 step 8): -32700 with Python's message", () => {
  const json: [string, string][] = [
    ['', 'Expecting value: line 1 column 1 (char 0)'],
    ['   ', 'Expecting value: line 1 column 4 (char 3)'],
    ['{', 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
    ["{'a': 1}", 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
    ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
    ['{"a": 1 "b": 2}', "Expecting ',' delimiter: line 1 column 9 (char 8)"],
    ['{"a": 1,}', 'Illegal trailing comma before end of object: line 1 column 8 (char 7)'],
    ['[1, 2,]', 'Illegal trailing comma before end of array: line 1 column 6 (char 5)'],
    ['{"a": }', 'Expecting value: line 1 column 7 (char 6)'],
    ['{"a": "b', 'Unterminated string starting at: line 1 column 7 (char 6)'],
    ['{"a": "b\nc"}', 'Invalid control character at: line 1 column 9 (char 8)'],
    ['"\\q"', 'Invalid \\escape: line 1 column 2 (char 1)'],
    ['"\\u12G4"', 'Invalid \\uXXXX escape: line 1 column 3 (char 2)'],
    ['{"a": 1}}', 'Extra data: line 1 column 9 (char 8)'],
    ['{}\n{}', 'Extra data: line 2 column 1 (char 3)'],
    ['{\n  "a": tru\n}', 'Expecting value: line 2 column 8 (char 9)'],
    ['{"😀": x}', 'Expecting value: line 1 column 7 (char 6)'],
    ['NaN', 'Expecting value: line 1 column 1 (char 0)'],
    ['-', 'Expecting value: line 1 column 1 (char 0)'],
    ['01', 'Extra data: line 1 column 2 (char 1)'],
    ['1.', 'Extra data: line 1 column 2 (char 1)'],
    ['\ufeff{}', 'Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)'],
  ];
  for (const [body, message] of json) {
    test(`${JSON.stringify(body)} → Invalid JSON: ${message}`, () => {
      assert.deepEqual(errorOf(parse(body)), {
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error', data: { error: `Invalid JSON: ${message}` } },
        id: null,
      });
    });
  }

  const bytes: [number[], string][] = [
    [[0x7b, 0xff, 0x7d], 'byte 0xff in position 1: invalid start byte'],
    [[0x80], 'byte 0x80 in position 0: invalid start byte'],
    [[0xc0, 0x80], 'byte 0xc0 in position 0: invalid start byte'],
    [[0xe2, 0x28, 0xa1], 'byte 0xe2 in position 0: invalid continuation byte'],
    [[0xed, 0xa0, 0x80], 'byte 0xed in position 0: invalid continuation byte'],
    [[0xf0, 0x9f, 0x98, 0x41], 'bytes in position 0-2: invalid continuation byte'],
    [[0x22, 0xe2, 0x82], 'bytes in position 1-2: unexpected end of data'],
    [[0x22, 0xf0], 'byte 0xf0 in position 1: unexpected end of data'],
  ];
  for (const [raw, message] of bytes) {
    test(`bytes ${raw.map((b) => b.toString(16)).join(' ')} → Invalid UTF-8 encoding: …${message}`, () => {
      const response = errorOf(parseRequestBody(Uint8Array.from(raw)));
      assert.equal(response.error.code, -32700);
      assert.deepEqual(response.error.data, {
        error: `Invalid UTF-8 encoding: 'utf-8' codec can't decode ${message}`,
      });
    });
  }

  test('a string body skips decoding; a valid UTF-8 body with non-ASCII text decodes', () => {
    const parsed = parseRequestBody(JSON.stringify({ ...REQUEST, id: 'é✓😀' }));
    assert.ok(parsed.kind === 'request');
    assert.equal(parsed.request.id, 'é✓😀');
    const fromBytes = parse({ ...REQUEST, id: 'é✓😀' });
    assert.ok(fromBytes.kind === 'request');
    assert.equal(fromBytes.request.id, 'é✓😀');
  });
});

describe('batches (§2.6)', () => {
  test('each item is checked on its own; answers keep the order', () => {
    const parsed = parse([REQUEST, 5, { ...REQUEST, method: 'nope', id: 2 }, { ...REQUEST, id: 3 }]);
    assert.ok(parsed.kind === 'batch');
    assert.equal(parsed.items.length, 4);
    assert.ok(parsed.items[0]?.ok);
    assert.deepEqual(parsed.items[1], {
      ok: false,
      response: { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request', data: null }, id: null },
    });
    assert.ok(!parsed.items[2]?.ok);
    assert.equal(parsed.items[2]?.ok === false && parsed.items[2].response.error.code, -32601);
    assert.ok(parsed.items[3]?.ok && parsed.items[3].request.id === 3);
  });

  test('non-object items (null, arrays, strings) are -32600 with data null and id null', () => {
    const parsed = parse([null, [], 'x', true]);
    assert.ok(parsed.kind === 'batch');
    for (const item of parsed.items) {
      assert.deepEqual(item, {
        ok: false,
        response: {
          jsonrpc: '2.0',
          error: { code: -32600, message: 'Invalid request', data: null },
          id: null,
        },
      });
    }
  });

  test('an empty batch is one error: reason "empty batch"', () => {
    const parsed = parse([]);
    assert.equal(parsed.kind, 'batch_error');
    assert.deepEqual(errorOf(parsed), {
      jsonrpc: '2.0',
      error: { code: -32600, message: 'Invalid request', data: { reason: 'empty batch' } },
      id: null,
    });
    assert.equal(parse('  [ ]  ').kind, 'batch_error');
  });

  test(`${MAX_BATCH_SIZE} items pass; ${MAX_BATCH_SIZE + 1} is one error naming the size`, () => {
    const full = parse(Array.from({ length: MAX_BATCH_SIZE }, (_, i) => ({ ...REQUEST, id: i })));
    assert.ok(full.kind === 'batch');
    assert.equal(full.items.length, 50);
    const tooBig = parse(Array.from({ length: 51 }, () => 1));
    assert.equal(tooBig.kind, 'batch_error');
    assert.deepEqual(errorOf(tooBig).error.data, { reason: 'batch size 51 exceeds max 50' });
    const custom = parseRequestBody(Buffer.from('[1,2,3]'), { allowBatch: true, maxBatchSize: 2 });
    assert.deepEqual(errorOf(custom).error.data, { reason: 'batch size 3 exceeds max 2' });
  });

  test('a batch may start with a UTF-8 BOM and whitespace (Python skips the BOM there)', () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(` \n[${JSON.stringify(REQUEST)}]`),
    ]);
    const parsed = parseRequestBody(body, { allowBatch: true });
    assert.ok(parsed.kind === 'batch');
    assert.ok(parsed.items[0]?.ok);
  });

  test('a broken array is not a batch: it is answered as a single body (-32700)', () => {
    const response = errorOf(parse('[1, 2'));
    assert.equal(response.error.code, -32700);
    assert.deepEqual(response.error.data, {
      error: "Invalid JSON: Expecting ',' delimiter: line 1 column 6 (char 5)",
    });
  });

  test('a compressed array is not spotted as a batch (the server decides with allowBatch)', () => {
    const compressed = brotliCompressSync(Buffer.from(JSON.stringify([REQUEST])));
    assert.equal(
      parseRequestBody(compressed, { allowBatch: true }).kind,
      'error',
      'raw brotli bytes are not JSON',
    );
    const decoded = parse([REQUEST], false);
    assert.deepEqual(errorOf(decoded).error.data, {
      error: 'JSON-RPC request must be an object',
      received_type: 'list',
    });
  });
});
