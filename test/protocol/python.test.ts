import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  pyFixed,
  pyFloatRepr,
  pyRepr,
  pyStr,
  pyStrip,
  pyTypeName,
  rustTrim,
} from '../../src/protocol/python.ts';
import { pythonJsonError, utf8DecodeError } from '../../src/protocol/python-json.ts';

test('pyFixed rounds exact halves to even, like f"{x:.1f}"', () => {
  const cases: [number, string][] = [
    [612.3, '612.3'],
    [612.25, '612.2'],
    [612.75, '612.8'],
    [0.25, '0.2'],
    [0.35, '0.3'], // 0.35 is below the half in binary
    [300.000001, '300.0'],
    [-0.25, '-0.2'],
    [1e21, '1000000000000000000000.0'],
    [Infinity, 'inf'],
  ];
  for (const [value, text] of cases) assert.equal(pyFixed(value, 1), text, String(value));
});

test('pyRepr quotes and escapes as Python repr() does', () => {
  assert.equal(pyRepr('abc'), "'abc'");
  assert.equal(pyRepr("it's"), `"it's"`);
  assert.equal(pyRepr(`it's "x"`), `'it\\'s "x"'`);
  assert.equal(pyRepr('a\nb\t\\'), "'a\\nb\\t\\\\'");
  assert.equal(pyRepr('\x00\x7f\u00a0é\u2028😀'), "'\\x00\\x7f\\xa0é\\u2028😀'");
});

test('pyStr and pyFloatRepr print JSON values as Python str() does', () => {
  assert.equal(pyStr('x'), 'x');
  assert.equal(pyStr(null), 'None');
  assert.equal(pyStr([1, 'a', true, null, 1.5]), "[1, 'a', True, None, 1.5]");
  assert.equal(pyStr({ a: { b: [] } }), "{'a': {'b': []}}");
  assert.equal(pyFloatRepr(1e16), '1e+16');
  assert.equal(pyFloatRepr(1.5e-5), '1.5e-05');
  assert.equal(pyFloatRepr(0.0001), '0.0001');
  assert.equal(pyFloatRepr(123.0), '123.0');
  assert.equal(pyFloatRepr(Number.NaN), 'nan');
});

test('pyTypeName, pyStrip, rustTrim', () => {
  assert.deepEqual(
    [null, true, 'x', 1, 1.5, [], {}].map((value) => pyTypeName(value)),
    ['NoneType', 'bool', 'str', 'int', 'float', 'list', 'dict'],
  );
  assert.equal(pyTypeName(1, true), 'float');
  assert.equal(pyStrip('\x1c\t 2.2 \u3000'), '2.2');
  assert.equal(rustTrim('\u0085 30 \n'), '30');
  assert.equal(rustTrim('\ufeff30'), '\ufeff30', 'Rust does not trim a BOM');
});

test('the scanners accept what Python accepts (no false errors)', () => {
  for (const text of [
    '{}',
    '[]',
    '0',
    '-0.5e-3',
    '"\\ud83d\\ude00"',
    '{"a": [1, {"b": null}], "c": "\\u00e9"}',
    ' \n 1 \t',
  ]) {
    assert.equal(pythonJsonError(text), undefined, text);
  }
  assert.equal(utf8DecodeError(Buffer.from('é✓😀')), undefined);
});
