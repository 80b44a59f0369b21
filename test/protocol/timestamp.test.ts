import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  asapErrorResponse,
  ASAP_ERROR_TEXT,
  checkTimestampWindow,
  duplicateNonceError,
  formatTimestamp,
  parseTimestamp,
  readNonce,
  timestampMicros,
  validateEnvelope,
} from '../../src/protocol/index.ts';
import { invalidIssues, requestWith, SHEET_TIMESTAMP_REJECTION, URL_PREFIX } from './fixtures.ts';

/** [input, how the reference prints it]. */
const ACCEPTED: [unknown, string][] = [
  ['2026-07-21T12:00:00.123456Z', '2026-07-21T12:00:00.123456Z'],
  ['2026-07-21T12:00:00Z', '2026-07-21T12:00:00Z'],
  ['2026-07-21T12:00:00.000000Z', '2026-07-21T12:00:00Z'],
  ['2026-07-21T12:00:00.1Z', '2026-07-21T12:00:00.100000Z'],
  ['2026-07-21T12:00:00.1234567891Z', '2026-07-21T12:00:00.123456Z'],
  ['2026-07-21T12:00:00,5Z', '2026-07-21T12:00:00.500000Z'],
  ['2026-07-21t12:00:00z', '2026-07-21T12:00:00Z'],
  ['2026-07-21 12:00:00', '2026-07-21T12:00:00'],
  ['2026-07-21_12:00', '2026-07-21T12:00:00'],
  ['2026-07-21T12:00:00+00:00', '2026-07-21T12:00:00Z'],
  ['2026-07-21T12:00:00-00:00', '2026-07-21T12:00:00Z'],
  ['2026-07-21T14:30:00+0230', '2026-07-21T14:30:00+02:30'],
  ['2026-07-21T09:00:00\u221203:00', '2026-07-21T09:00:00-03:00'],
  ['2026-07-21', '2026-07-21T00:00:00'],
  ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00Z'],
  ['1784635200', '2026-07-21T12:00:00Z'],
  ['1784635200.25', '2026-07-21T12:00:00.250000Z'],
  ['1784635200123', '2026-07-21T12:00:00.123000Z'],
  ['+1784635200', '2026-07-21T12:00:00Z'],
  [1_784_635_200, '2026-07-21T12:00:00Z'],
  [1_784_635_200.5, '2026-07-21T12:00:00.500000Z'],
  [1_784_635_200_123, '2026-07-21T12:00:00.123000Z'],
  [0, '1970-01-01T00:00:00Z'],
  [-1.5, '1969-12-31T23:59:58.500000Z'],
  [-1e12, '1938-04-24T22:13:20Z'], // beyond 2e10: milliseconds
  ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999999Z'],
];

/** [input, error type, reason (after the type's prefix)]. */
const REJECTED: [unknown, string, string | null][] = [
  ['', 'datetime_from_date_parsing', 'input is too short'],
  ['yesterday', 'datetime_from_date_parsing', 'input is too short'],
  ['not-a-timestamp', 'datetime_from_date_parsing', 'invalid character in year'],
  ['2026/07/21T12:00:00Z', 'datetime_from_date_parsing', 'invalid date separator, expected `-`'],
  ['2026-13-01T00:00:00Z', 'datetime_from_date_parsing', 'month value is outside expected range of 1-12'],
  ['2023-02-29T00:00:00Z', 'datetime_from_date_parsing', 'day value is outside expected range'],
  [
    '2026-07-21T25:00:00Z',
    'datetime_from_date_parsing',
    'unexpected extra characters at the end of the input',
  ],
  [
    '2026-07-21X12:00:00',
    'datetime_from_date_parsing',
    'unexpected extra characters at the end of the input',
  ],
  [
    '2026-07-21T12:00:00+25:00',
    'datetime_from_date_parsing',
    'unexpected extra characters at the end of the input',
  ],
  ['2026-7-21', 'datetime_from_date_parsing', 'input is too short'],
  ['123456789012345678901234567890', 'datetime_from_date_parsing', 'invalid date separator, expected `-`'],
  [
    '99999999999999999',
    'datetime_from_date_parsing',
    'dates after 9999 are not supported as unix timestamps',
  ],
  ['0000-01-01T00:00:00Z', 'datetime_parsing', 'year 0 is out of range'],
  ['0000-01-01', 'datetime_parsing', 'year 0 is out of range'],
  [1e18, 'datetime_parsing', 'dates after 9999 are not supported as unix timestamps'],
  [-1e15, 'datetime_parsing', 'dates before 0000 are not supported as unix timestamps'],
  [true, 'datetime_type', null],
  [[], 'datetime_type', null],
  [{}, 'datetime_type', null],
];

describe('envelope timestamps: what the reference accepts and how it prints them', () => {
  for (const [input, printed] of ACCEPTED) {
    test(`${JSON.stringify(input)} → ${printed}`, () => {
      const result = validateEnvelope(requestWith({ timestamp: input }));
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.envelope.timestamp, printed);
    });
  }
  for (const [input, type, reason] of REJECTED) {
    test(`${JSON.stringify(input)} → ${type}${reason === null ? '' : `: ${reason}`}`, () => {
      const issues = invalidIssues(validateEnvelope(requestWith({ timestamp: input })));
      assert.equal(issues.length, 1);
      const prefix =
        type === 'datetime_type'
          ? 'Input should be a valid datetime'
          : type === 'datetime_parsing'
            ? 'Input should be a valid datetime, '
            : 'Input should be a valid datetime or date, ';
      assert.deepEqual(issues[0], {
        type,
        loc: ['timestamp'],
        msg: reason === null ? prefix : `${prefix}${reason}`,
        input,
        ...(reason === null ? {} : { ctx: { error: reason } }),
        url: `${URL_PREFIX}${type}`,
      });
    });
  }

  test('parseTimestamp and timestampMicros agree with Date for ordinary instants', () => {
    for (const text of ['2026-07-21T12:00:00.123Z', '1999-12-31T23:59:59Z', '2000-02-29T12:00:00+05:45']) {
      assert.equal(timestampMicros(text), Date.parse(text) * 1000);
      assert.ok(parseTimestamp(text).ok);
    }
    assert.equal(
      timestampMicros('2026-07-21T12:00:00.123456Z'),
      Date.parse('2026-07-21T12:00:00.123Z') * 1000 + 456,
    );
    assert.equal(timestampMicros('garbage'), undefined);
  });

  test('toISOString() text is printed as the reference prints the same instant', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 48_271) % 2_147_483_647);
    for (let i = 0; i < 2_000; i++) {
      const ms = (next() % 4_000_000_000) * 1000 + (i % 5 === 0 ? 0 : next() % 1000);
      const text = new Date(ms).toISOString();
      const result = validateEnvelope(requestWith({ timestamp: text }));
      assert.ok(result.ok, text);
      assert.equal(result.envelope.timestamp, formatTimestamp(ms), text);
    }
    const invalid = validateEnvelope(requestWith({ timestamp: '2026-02-30T00:00:00.123Z' }));
    assert.equal(invalidIssues(invalid)[0]?.type, 'datetime_from_date_parsing');
  });

  test('formatTimestamp writes now as the reference does: UTC, Z, microseconds when non-zero', () => {
    assert.equal(formatTimestamp(Date.parse('2026-07-21T12:00:00.130Z')), '2026-07-21T12:00:00.130000Z');
    assert.equal(formatTimestamp(Date.parse('2026-07-21T12:00:00Z')), '2026-07-21T12:00:00Z');
    assert.equal(formatTimestamp(Date.parse('0099-01-01T00:00:00Z')), '0099-01-01T00:00:00Z');
    assert.match(formatTimestamp(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
  });
});

describe('the timestamp window (§5.2): -32002', () => {
  const at = (iso: string): number => Date.parse(iso);
  const envelope = (timestamp: string) => ({ id: '01J...', timestamp });

  test('reproduces the sheet example exactly', () => {
    const error = checkTimestampWindow(envelope('2026-07-21T11:50:00Z'), at('2026-07-21T12:00:12.300Z'));
    assert.ok(error);
    const answer = asapErrorResponse('req-1', error, ASAP_ERROR_TEXT.invalidTimestamp);
    assert.deepEqual(answer, SHEET_TIMESTAMP_REJECTION);
    assert.equal(error.recoverable, true);
    assert.equal(error.retryable, true, 'the engine would retry it');
  });

  test('exactly 300 s old passes, 300.000001 s fails', () => {
    const now = at('2026-07-21T12:05:00Z');
    assert.equal(checkTimestampWindow(envelope('2026-07-21T12:00:00Z'), now), undefined);
    const error = checkTimestampWindow(envelope('2026-07-21T11:59:59.999999Z'), now);
    assert.ok(error);
    assert.equal(error.message, 'Envelope timestamp is too old: 300.0 seconds (max: 300 seconds)');
    assert.equal(error.details.age_seconds, 300.000001);
  });

  test('exactly 30 s ahead passes, more fails with the future wording and details', () => {
    const now = at('2026-07-21T12:00:00Z');
    assert.equal(checkTimestampWindow(envelope('2026-07-21T12:00:30Z'), now), undefined);
    const error = checkTimestampWindow(envelope('2026-07-21T12:00:45.5Z'), now);
    assert.ok(error);
    assert.equal(error.rpcCode, -32002);
    assert.equal(
      error.message,
      'Envelope timestamp is too far in the future: 45.5 seconds (max tolerance: 30 seconds)',
    );
    assert.deepEqual(error.details, {
      timestamp: '2026-07-21T12:00:45.500000+00:00',
      future_offset_seconds: 45.5,
      envelope_id: '01J...',
      max_future_tolerance_seconds: 30,
    });
    assert.deepEqual(Object.keys(error.details), [
      'timestamp',
      'future_offset_seconds',
      'envelope_id',
      'max_future_tolerance_seconds',
    ]);
  });

  test('a naive timestamp counts as UTC; an offset is converted (details show UTC +00:00)', () => {
    const now = at('2026-07-21T12:00:00Z');
    assert.equal(checkTimestampWindow(envelope('2026-07-21T11:59:00'), now), undefined);
    assert.equal(checkTimestampWindow(envelope('2026-07-21T13:59:00+02:00'), now), undefined);
    const error = checkTimestampWindow(envelope('2026-07-21T12:00:00-01:00'), now);
    assert.equal(error?.details.timestamp, '2026-07-21T13:00:00+00:00');
    assert.equal(error?.details.future_offset_seconds, 3600);
  });

  test('the one-decimal age rounds exact halves to even, as Python formats it', () => {
    const sent = envelope('2026-07-21T11:50:00Z');
    const age = (ms: string) => checkTimestampWindow(sent, at(`2026-07-21T${ms}Z`))?.message;
    assert.equal(age('11:55:00.250'), 'Envelope timestamp is too old: 300.2 seconds (max: 300 seconds)');
    assert.equal(age('12:00:12.250'), 'Envelope timestamp is too old: 612.2 seconds (max: 300 seconds)');
    assert.equal(age('12:00:12.750'), 'Envelope timestamp is too old: 612.8 seconds (max: 300 seconds)');
    assert.equal(age('12:00:12.350'), 'Envelope timestamp is too old: 612.4 seconds (max: 300 seconds)');
  });
});

describe('nonces (§5.2): -32003', () => {
  const env = (extensions: Record<string, unknown> | null) => ({ id: 'e1', extensions });

  test('absent: no extensions, empty extensions, or no nonce key', () => {
    for (const extensions of [null, {}, { other: 1 }])
      assert.deepEqual(readNonce(env(extensions)), { kind: 'absent' });
  });

  test('present: a non-empty string', () => {
    assert.deepEqual(readNonce(env({ nonce: 'q2Vb...' })), { kind: 'present', nonce: 'q2Vb...' });
  });

  const invalid: [unknown, string, string][] = [
    ['', '', 'empty string'],
    [5, '5', 'int'],
    [1.5, '1.5', 'float'],
    [null, 'None', 'NoneType'],
    [true, 'True', 'bool'],
    [['a'], "['a']", 'list'],
    [{ a: 1 }, "{'a': 1}", 'dict'],
  ];
  for (const [nonce, shown, got] of invalid) {
    test(`${JSON.stringify(nonce)} is rejected: "got ${got}", details.nonce ${JSON.stringify(shown)}`, () => {
      const read = readNonce(env({ nonce }));
      assert.equal(read.kind, 'invalid');
      assert.ok(read.kind === 'invalid');
      assert.equal(read.error.rpcCode, -32003);
      assert.equal(read.error.message, `Nonce must be a non-empty string, got ${got}`);
      assert.deepEqual(read.error.details, { nonce: shown, envelope_id: 'e1' });
    });
  }

  test('a duplicate nonce: fatal, with the nonce in the message', () => {
    const error = duplicateNonceError('abc', 'e1');
    assert.deepEqual(asapErrorResponse('r', error, ASAP_ERROR_TEXT.invalidNonce), {
      jsonrpc: '2.0',
      error: {
        code: -32003,
        message: 'Duplicate nonce detected: abc',
        data: {
          code: 'asap:protocol/invalid_nonce',
          rpc_code: -32003,
          message: 'Duplicate nonce detected: abc',
          details: { nonce: 'abc', envelope_id: 'e1' },
          recoverable: false,
          asap_taxonomy_code: 'asap:protocol/invalid_nonce',
          error: 'Invalid envelope nonce',
        },
      },
      id: 'r',
    });
  });
});
