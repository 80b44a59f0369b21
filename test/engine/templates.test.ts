import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorDetail } from '../../src/util/errors.ts';
import {
  loadTemplateDir,
  parseHandlerRef,
  parseTemplateRef,
  parseTemplateSource,
  templateKey,
  validateTemplate,
  type StepTemplate,
  type TemplateContext,
} from '../../src/engine/templates.ts';
import { compileSchema, formatSchemaErrors, schemaProblems } from '../../src/engine/schema.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'templates');

const HANDLERS = new Set(['demo/a', 'demo/reserve-stock', 'demo/reserve-stock@1.0.0', 'demo/pack']);
const context: TemplateContext = {
  hasHandler: (ref) => HANDLERS.has(ref),
  hasBuiltin: (type) => type === 'http' || type === 'asap',
  // The fake built-in wants `needs` to name an upstream step.
  checkBuiltin: (config, step) =>
    typeof config.needs === 'string' && !step.upstream.has(config.needs)
      ? [{ path: 'needs', message: `${config.needs} is not upstream of ${step.name}` }]
      : [],
};

type StepInput = Record<string, unknown>;

/** A step on the always-known handler `demo/a`. */
function step(name: string, dependsOn: string[] = [], extra: StepInput = {}): StepInput {
  return { name, handler: 'demo/a', depends_on: dependsOn, ...extra };
}

function template(steps: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { namespace: 'demo', name: 'flow', version: '1.0.0', steps, ...extra };
}

/** Asserts that validation fails and returns the error (a ValidationError with details). */
function rejection(input: unknown): { message: string; details: readonly ErrorDetail[] } {
  try {
    validateTemplate(input, context);
  } catch (error) {
    assert.ok(error instanceof Error);
    const { code, details } = error as Error & { code?: string; details?: ErrorDetail[] };
    assert.equal(code, 'validation_failed');
    assert.ok(details, 'a ValidationError carries details');
    return { message: error.message, details };
  }
  assert.fail('expected the template to be rejected');
}

function problems(input: unknown): readonly ErrorDetail[] {
  return rejection(input).details;
}

function names(steps: readonly StepTemplate[]): string[] {
  return steps.map((entry) => entry.name);
}

/** Every step comes after all the steps it depends on. */
function assertDependenciesFirst(steps: readonly StepTemplate[]): void {
  const seen = new Set<string>();
  for (const entry of steps) {
    for (const dependency of entry.depends_on)
      assert.ok(seen.has(dependency), `${dependency} before ${entry.name}`);
    seen.add(entry.name);
  }
}

describe('validateTemplate: normalisation', () => {
  test('fills defaults and keeps nothing undefined', () => {
    const result = validateTemplate(
      { namespace: 'demo', name: 'flow', steps: [{ name: 'a', handler: 'demo/a' }] },
      context,
    );
    assert.deepEqual(result, {
      namespace: 'demo',
      name: 'flow',
      version: '0.1.0',
      description: '',
      steps: [{ name: 'a', handler: 'demo/a', depends_on: [], retryable: true }],
    });
  });

  test('keeps every optional field as given', () => {
    const retry = {
      max_attempts: 5,
      backoff: { schedule_ms: [100, 200], base_ms: 10, factor: 1.5, max_ms: 1000, jitter: 0 },
      max_retry_after_ms: 0,
    };
    const charge = {
      name: 'charge',
      handler: { type: 'http', method: 'POST', url: 'https://payments.example/charge', headers: { a: 'b' } },
      depends_on: ['reserve'],
      retry,
      timeout_ms: 86_400_000,
      retryable: false,
      concurrency_key: 'payments',
      description: 'take the money',
    };
    const input = template([{ name: 'reserve', handler: 'demo/reserve-stock@1.0.0' }, charge], {
      description: 'an order',
      input_schema: { type: 'object' },
    });
    const result = validateTemplate(input, context);
    assert.equal(result.description, 'an order');
    assert.deepEqual(result.input_schema, { type: 'object' });
    assert.deepEqual(result.steps[1], charge);
  });

  test('returns a deep-frozen copy and leaves the input alone', () => {
    const input = template(
      [step('a', [], { handler: { type: 'http', headers: { x: '1' } } }), step('b', ['a'])],
      {
        input_schema: { type: 'object', properties: { id: { type: 'string' } } },
      },
    );
    const result = validateTemplate(input, context);
    for (const value of [
      result,
      result.steps,
      result.steps[0],
      result.steps[1]?.depends_on,
      result.input_schema,
    ]) {
      assert.ok(Object.isFrozen(value));
    }
    const handler = result.steps[0]?.handler as unknown as { headers: Record<string, string> };
    assert.ok(Object.isFrozen(handler) && Object.isFrozen(handler.headers));
    assert.ok(Object.isFrozen((result.input_schema?.properties as Record<string, object>).id));
    assert.throws(() => {
      (result.steps as unknown[]).push(step('c'));
    }, TypeError);
    assert.throws(() => {
      handler.headers.x = '2';
    }, TypeError);
    assert.ok(!Object.isFrozen(input) && !Object.isFrozen(input.steps));
    assert.notEqual(result.input_schema, input.input_schema);
  });

  test('copies built-in configuration as JSON data', () => {
    const config = JSON.parse('{"type":"http","__proto__":{"polluted":true},"skip":null}') as Record<
      string,
      unknown
    >;
    const result = validateTemplate(
      template([step('a', [], { handler: { ...config, gone: undefined } })]),
      context,
    );
    const handler = result.steps[0]?.handler as Record<string, unknown>;
    assert.deepEqual(Object.keys(handler), ['type', '__proto__', 'skip']);
    assert.equal(Object.getPrototypeOf(handler), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('rejects configuration that JSON cannot hold', () => {
    const circular: Record<string, unknown> = { type: 'http' };
    circular.self = circular;
    assert.deepEqual(problems(template([step('a', [], { handler: circular })])), [
      { path: 'steps[0].handler.self', message: 'must be JSON data (got a circular reference)' },
    ]);
    const odd = { type: 'http', call: () => 1, at: new Date(0), ratio: Number.NaN, list: [undefined] };
    assert.deepEqual(problems(template([step('a', [], { handler: odd })])), [
      { path: 'steps[0].handler.call', message: 'must be JSON data (got a function)' },
      { path: 'steps[0].handler.at', message: 'must be JSON data (got a Date instance)' },
      { path: 'steps[0].handler.ratio', message: 'must be JSON data (got NaN)' },
      { path: 'steps[0].handler.list[0]', message: 'must be JSON data (got nothing)' },
    ]);
  });
});

describe('validateTemplate: template fields', () => {
  test('a template must be an object', () => {
    for (const input of [null, [], 'demo.flow', 42]) {
      const { message, details } = rejection(input);
      assert.match(message, /^invalid template: a template must be an object/);
      assert.equal(details.length, 1);
      assert.equal(details[0]?.path, undefined);
    }
  });

  test('namespace and name are lowercase identifiers', () => {
    const rule = 'must be 1 to 64 lowercase letters, digits, _ or -, starting with a letter or digit';
    assert.deepEqual(problems(template([step('a')], { namespace: 'Demo', name: '-flow' })), [
      { path: 'namespace', message: `${rule} (got 'Demo')` },
      { path: 'name', message: `${rule} (got '-flow')` },
    ]);
    assert.deepEqual(
      problems(template([step('a')], { namespace: 'a.b', name: 'x'.repeat(65) })).map((p) => p.path),
      ['namespace', 'name'],
    );
    assert.deepEqual(problems({ steps: [step('a')] }), [
      { path: 'namespace', message: 'is required' },
      { path: 'name', message: 'is required' },
    ]);
    assert.equal(validateTemplate(template([step('a')], { name: 'x'.repeat(64) }), context).name.length, 64);
  });

  test('version must be a canonical semantic version', () => {
    const cases: [unknown, string][] = [
      ['1.0', "must be a semantic version such as '1.0.0' (got '1.0')"],
      ['v1.2.3', "must be a semantic version such as '1.0.0' (got 'v1.2.3'; write '1.2.3')"],
      ['1.0.0+build.5', "must be a semantic version such as '1.0.0' (got '1.0.0+build.5'; write '1.0.0')"],
      [1, "must be a semantic version such as '1.0.0' (got 1)"],
      ['latest', "must be a semantic version such as '1.0.0' (got 'latest')"],
    ];
    for (const [version, message] of cases) {
      assert.deepEqual(problems(template([step('a')], { version })), [{ path: 'version', message }]);
    }
    assert.equal(
      validateTemplate(template([step('a')], { version: '2.0.0-rc.1' }), context).version,
      '2.0.0-rc.1',
    );
  });

  test('unknown keys are rejected, with a suggestion for typos', () => {
    const input = template([step('a', [], { depnds_on: ['b'], colour: 'red' })], { stpes: [], extra: 1 });
    assert.deepEqual(problems(input), [
      { path: 'stpes', message: "unknown key (did you mean 'steps'?)" },
      {
        path: 'extra',
        message: 'unknown key (allowed: namespace, name, version, description, input_schema, steps)',
      },
      { path: 'steps[0].depnds_on', message: "unknown key (did you mean 'depends_on'?)" },
      {
        path: 'steps[0].colour',
        message:
          'unknown key (allowed: name, handler, depends_on, retryable, retry, timeout_ms, concurrency_key, description)',
      },
    ]);
  });

  test('description must be a string', () => {
    assert.deepEqual(problems(template([step('a', [], { description: 5 })], { description: ['x'] })), [
      { path: 'description', message: 'must be a string (got an array)' },
      { path: 'steps[0].description', message: 'must be a string (got 5)' },
    ]);
  });

  test('steps must be a non-empty list of objects', () => {
    assert.deepEqual(problems(template(undefined)), [{ path: 'steps', message: 'is required' }]);
    assert.deepEqual(problems(template([])), [
      { path: 'steps', message: 'must be a non-empty list of steps (got an array)' },
    ]);
    assert.deepEqual(problems(template({ a: step('a') })), [
      { path: 'steps', message: 'must be a non-empty list of steps (got an object)' },
    ]);
    assert.deepEqual(problems(template([step('a'), 'b'])), [
      { path: 'steps[1]', message: "a step must be an object (got 'b')" },
    ]);
  });

  test('input_schema must be an object that compiles as JSON Schema', () => {
    assert.deepEqual(problems(template([step('a')], { input_schema: { type: 'strnig' } })), [
      {
        path: 'input_schema.type',
        message:
          'must be equal to one of the allowed values: "array", "boolean", "integer", "null", "number", "object", "string"',
      },
      { path: 'input_schema.type', message: 'must be array' },
      { path: 'input_schema.type', message: 'must match a schema in anyOf' },
    ]);
    assert.deepEqual(problems(template([step('a')], { input_schema: { $ref: '#/definitions/missing' } })), [
      {
        path: 'input_schema',
        message: "is not a valid JSON Schema: can't resolve reference #/definitions/missing from id #",
      },
    ]);
    assert.deepEqual(problems(template([step('a')], { input_schema: ['object'] })), [
      { path: 'input_schema', message: 'must be a JSON Schema object (got an array)' },
    ]);
    // Unknown keywords are allowed (strict mode is off), as JSON Schema says.
    validateTemplate(
      template([step('a')], { input_schema: { type: 'object', 'x-ui': { order: 1 } } }),
      context,
    );
  });
});

describe('validateTemplate: steps', () => {
  test('step names are identifiers, required and unique', () => {
    const rule = 'must be 1 to 128 letters, digits, _ or -, starting with a letter or digit';
    assert.deepEqual(
      problems(template([step('a b'), step('_a'), { handler: 'demo/a' }, step('x'.repeat(129))])),
      [
        { path: 'steps[0].name', message: `${rule} (got 'a b')` },
        { path: 'steps[1].name', message: `${rule} (got '_a')` },
        { path: 'steps[2].name', message: 'is required' },
        { path: 'steps[3].name', message: `${rule} (got '${'x'.repeat(57)}...')` },
      ],
    );
    assert.deepEqual(problems(template([step('a'), step('b'), step('a'), step('a')])), [
      { path: 'steps[2].name', message: "duplicate step 'a' (also steps[0])" },
      { path: 'steps[3].name', message: "duplicate step 'a' (also steps[0])" },
    ]);
    assert.deepEqual(names(validateTemplate(template([step('Fetch_Data-2')]), context).steps), [
      'Fetch_Data-2',
    ]);
  });

  test('depends_on names existing steps, each once', () => {
    assert.deepEqual(
      problems(
        template([
          step('charge'),
          step('ship', ['chrage', 'zz', 'charge', 'charge', 7 as unknown as string, '']),
        ]),
      ),
      [
        { path: 'steps[1].depends_on[3]', message: "duplicate dependency 'charge'" },
        { path: 'steps[1].depends_on[4]', message: 'must be a string (got 7)' },
        { path: 'steps[1].depends_on[5]', message: 'must not be empty' },
        { path: 'steps[1].depends_on[0]', message: "unknown step 'chrage' (did you mean 'charge'?)" },
        { path: 'steps[1].depends_on[1]', message: "unknown step 'zz'" },
      ],
    );
    assert.deepEqual(problems(template([step('a', 'b' as unknown as string[])])), [
      { path: 'steps[0].depends_on', message: "must be a list of step names (got 'b')" },
    ]);
  });

  test('a step depending on itself is a cycle', () => {
    const { message, details } = rejection(template([step('a'), step('b', ['a', 'b'])]));
    assert.deepEqual(details, [{ path: 'steps[1].depends_on[1]', message: 'cycle: b -> b' }]);
    assert.equal(message, "invalid template 'demo.flow@1.0.0': steps[1].depends_on[1]: cycle: b -> b");
  });

  test('a cycle is named in the message, from its earliest declared step', () => {
    // Each step depends on the one before it in the message: b waits for a, c for b, a for c.
    const { message, details } = rejection(template([step('a', ['c']), step('b', ['a']), step('c', ['b'])]));
    assert.deepEqual(details, [{ path: 'steps[0].depends_on[0]', message: 'cycle: a -> b -> c -> a' }]);
    assert.match(message, /cycle: a -> b -> c -> a/);
    // The same cycle declared in another order is still reported from the earliest declared step.
    assert.deepEqual(
      problems(template([step('x'), step('c', ['b', 'x']), step('b', ['a']), step('a', ['c'])])),
      [{ path: 'steps[1].depends_on[0]', message: 'cycle: c -> a -> b -> c' }],
    );
  });

  test('separate cycles are reported one by one; steps behind a cycle are not', () => {
    const steps = [
      step('a', ['b']),
      step('b', ['a']),
      step('tail', ['a']),
      step('c', ['e']),
      step('d', ['c']),
      step('e', ['d']),
      step('free'),
    ];
    assert.deepEqual(problems(template(steps)), [
      { path: 'steps[0].depends_on[0]', message: 'cycle: a -> b -> a' },
      { path: 'steps[3].depends_on[0]', message: 'cycle: c -> d -> e -> c' },
    ]);
  });

  test('two cycles through one step are both reported', () => {
    const steps = [step('a', ['b', 'c']), step('b', ['a']), step('c', ['a'])];
    assert.deepEqual(problems(template(steps)), [
      { path: 'steps[0].depends_on[0]', message: 'cycle: a -> b -> a' },
      { path: 'steps[0].depends_on[1]', message: 'cycle: a -> c -> a' },
    ]);
  });

  test('handler references must be well formed and registered', () => {
    const malformed = [
      'demo',
      'demo/a/b',
      'Demo/a',
      'demo/a@1.0',
      'demo/a@latest',
      'demo.a',
      '/a',
      'demo/a@',
    ];
    for (const handler of malformed) {
      assert.deepEqual(problems(template([step('a', [], { handler })])), [
        {
          path: 'steps[0].handler',
          message: `must be 'namespace/name' or 'namespace/name@1.2.3' (got '${handler}')`,
        },
      ]);
    }
    assert.deepEqual(
      problems(
        template([step('a', [], { handler: 'demo/nope' }), step('b', [], { handler: 'demo/pack@9.9.9' })]),
      ),
      [
        {
          path: 'steps[0].handler',
          message: "unknown handler 'demo/nope': no handler is registered under that reference",
        },
        {
          path: 'steps[1].handler',
          message: "unknown handler 'demo/pack@9.9.9': no handler is registered under that reference",
        },
      ],
    );
    assert.deepEqual(
      problems(template([step('a', [], { handler: undefined }), step('b', [], { handler: 3 })])),
      [
        { path: 'steps[0].handler', message: 'is required' },
        {
          path: 'steps[1].handler',
          message:
            "must be a handler reference like 'namespace/name' or a built-in handler like { type: http, … } (got 3)",
        },
      ],
    );
  });

  test('built-in handlers need a known type', () => {
    assert.deepEqual(problems(template([step('a', [], { handler: { type: 'htp', url: 'x' } })])), [
      { path: 'steps[0].handler.type', message: "unknown built-in handler type 'htp'" },
    ]);
    assert.deepEqual(
      problems(template([step('a', [], { handler: { url: 'x' } }), step('b', [], { handler: { type: 1 } })])),
      [
        { path: 'steps[0].handler.type', message: 'is required' },
        { path: 'steps[1].handler.type', message: 'must be a string (got 1)' },
      ],
    );
    const result = validateTemplate(
      template([step('a', [], { handler: { type: 'asap', skill_id: 'ship' } })]),
      context,
    );
    assert.deepEqual(result.steps[0]?.handler, { type: 'asap', skill_id: 'ship' });
  });

  test("a built-in's own checks see the step's transitive upstream steps", () => {
    const needs = (name: string) => ({ handler: { type: 'http', needs: name } });
    const steps = [step('a'), step('b', ['a']), step('c', ['b'], needs('a')), step('d', [], needs('c'))];
    assert.deepEqual(problems(template(steps)), [
      { path: 'steps[3].handler.needs', message: 'c is not upstream of d' },
    ]);
    assert.doesNotThrow(() => validateTemplate(template(steps.slice(0, 3)), context));
  });

  test('retry values are checked field by field', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ max_attempts: 0 }, 'max_attempts', 'must be an integer from 1 to 100 (got 0)'],
      [{ max_attempts: 101 }, 'max_attempts', 'must be an integer from 1 to 100 (got 101)'],
      [{ max_attempts: 2.5 }, 'max_attempts', 'must be an integer from 1 to 100 (got 2.5)'],
      [{ max_attempts: '3' }, 'max_attempts', "must be an integer from 1 to 100 (got '3')"],
      [{ max_retry_after_ms: -1 }, 'max_retry_after_ms', 'must be a number >= 0 (got -1)'],
      [{ backoff: { base_ms: -1 } }, 'backoff.base_ms', 'must be a number >= 0 (got -1)'],
      [{ backoff: { factor: 0.5 } }, 'backoff.factor', 'must be a number >= 1 (got 0.5)'],
      [{ backoff: { max_ms: -5 } }, 'backoff.max_ms', 'must be a number >= 0 (got -5)'],
      [{ backoff: { max_ms: Infinity } }, 'backoff.max_ms', 'must be a number >= 0 (got Infinity)'],
      [{ backoff: { jitter: 1.1 } }, 'backoff.jitter', 'must be a number from 0 to 1 (got 1.1)'],
      [{ backoff: { jitter: -0.1 } }, 'backoff.jitter', 'must be a number from 0 to 1 (got -0.1)'],
      [
        { backoff: { schedule_ms: 100 } },
        'backoff.schedule_ms',
        'must be a list of delays in milliseconds (got 100)',
      ],
      [{ backoff: { schedule_ms: [100, -1] } }, 'backoff.schedule_ms[1]', 'must be an integer >= 0 (got -1)'],
      [{ backoff: { schedule_ms: [1.5] } }, 'backoff.schedule_ms[0]', 'must be an integer >= 0 (got 1.5)'],
      [{ backoff: 'fast' }, 'backoff', "must be an object (got 'fast')"],
      [{ backof: {} }, 'backof', "unknown key (did you mean 'backoff'?)"],
      [{ backoff: { jiter: 0.1 } }, 'backoff.jiter', "unknown key (did you mean 'jitter'?)"],
    ];
    for (const [retry, path, message] of cases) {
      assert.deepEqual(problems(template([step('a', [], { retry })])), [
        { path: `steps[0].retry.${path}`, message },
      ]);
    }
    assert.deepEqual(problems(template([step('a', [], { retry: 3 })])), [
      { path: 'steps[0].retry', message: 'must be an object (got 3)' },
    ]);
  });

  test('retry accepts the boundaries', () => {
    for (const retry of [
      { max_attempts: 1, backoff: { jitter: 0, factor: 1, base_ms: 0, max_ms: 0, schedule_ms: [] } },
      { max_attempts: 100, backoff: { jitter: 1 }, max_retry_after_ms: 0 },
    ]) {
      assert.deepEqual(
        validateTemplate(template([step('a', [], { retry })]), context).steps[0]?.retry,
        retry,
      );
    }
  });

  test('timeout_ms is a positive integer of at most 24 hours', () => {
    for (const timeout of [0, -1, 1.5, 86_400_001, '100']) {
      const got = typeof timeout === 'string' ? `'${timeout}'` : String(timeout);
      assert.deepEqual(problems(template([step('a', [], { timeout_ms: timeout })])), [
        { path: 'steps[0].timeout_ms', message: `must be an integer from 1 to 86400000 (got ${got})` },
      ]);
    }
    assert.equal(
      validateTemplate(template([step('a', [], { timeout_ms: 1 })]), context).steps[0]?.timeout_ms,
      1,
    );
  });

  test('retryable is a boolean and concurrency_key a non-empty string', () => {
    assert.deepEqual(problems(template([step('a', [], { retryable: 'no', concurrency_key: '' })])), [
      { path: 'steps[0].retryable', message: "must be true or false (got 'no')" },
      { path: 'steps[0].concurrency_key', message: 'must not be empty' },
    ]);
  });

  test('every problem is reported at once, and the message lists them', () => {
    const input = template(
      [step('a', ['missing']), step('a', [], { handler: 'demo/nope', timeout_ms: 0 }), step('c', ['c'])],
      { version: '1' },
    );
    const { message, details } = rejection(input);
    assert.deepEqual(details, [
      { path: 'version', message: "must be a semantic version such as '1.0.0' (got '1')" },
      {
        path: 'steps[1].handler',
        message: "unknown handler 'demo/nope': no handler is registered under that reference",
      },
      { path: 'steps[1].timeout_ms', message: 'must be an integer from 1 to 86400000 (got 0)' },
      { path: 'steps[1].name', message: "duplicate step 'a' (also steps[0])" },
      { path: 'steps[0].depends_on[0]', message: "unknown step 'missing'" },
      { path: 'steps[2].depends_on[0]', message: 'cycle: c -> c' },
    ]);
    assert.ok(message.startsWith("invalid template 'demo.flow@1': 6 problems: version: must be"), message);
    for (const detail of details) assert.ok(message.includes(`${detail.path}: ${detail.message}`));
  });
});

describe('validateTemplate: step order', () => {
  function order(steps: StepInput[]): string[] {
    const result = validateTemplate(template(steps), context);
    assertDependenciesFirst(result.steps);
    return names(result.steps);
  }

  test('linear: dependencies first whatever the declared order', () => {
    assert.deepEqual(order([step('c', ['b']), step('b', ['a']), step('a')]), ['a', 'b', 'c']);
    assert.deepEqual(order([step('a'), step('b', ['a']), step('c', ['b'])]), ['a', 'b', 'c']);
  });

  test('diamond', () => {
    assert.deepEqual(
      order([
        step('join', ['left', 'right']),
        step('right', ['start']),
        step('left', ['start']),
        step('start'),
      ]),
      ['start', 'right', 'left', 'join'],
    );
  });

  test('tree', () => {
    const steps = [
      step('root'),
      step('b', ['root']),
      step('a', ['root']),
      step('b2', ['b']),
      step('a1', ['a']),
      step('b1', ['b']),
    ];
    assert.deepEqual(order(steps), ['root', 'b', 'a', 'b2', 'a1', 'b1']);
  });

  test('fan-out, fan-in', () => {
    const steps = [
      step('collect', ['w3', 'w1', 'w2']),
      step('split'),
      step('w1', ['split']),
      step('w2', ['split']),
      step('w3', ['split']),
    ];
    assert.deepEqual(order(steps), ['split', 'w1', 'w2', 'w3', 'collect']);
  });

  test('mixed: independent steps keep their declared order, dependents wait', () => {
    const steps = [
      step('report', ['merge']),
      step('solo'),
      step('fetch-a'),
      step('merge', ['fetch-a', 'fetch-b']),
      step('fetch-b'),
      step('audit', ['solo']),
    ];
    assert.deepEqual(order(steps), ['solo', 'fetch-a', 'fetch-b', 'merge', 'report', 'audit']);
  });

  test('a template already in dependency order keeps it exactly', () => {
    const steps = [
      step('a'),
      step('x'),
      step('b', ['a']),
      step('y'),
      step('c', ['b', 'x']),
      step('z', ['y']),
    ];
    assert.deepEqual(order(steps), ['a', 'x', 'b', 'y', 'c', 'z']);
  });

  /** The rule stated plainly: repeatedly take the first declared step whose dependencies are placed. */
  function referenceOrder(steps: StepInput[]): string[] {
    const placed: string[] = [];
    const left = [...steps];
    while (left.length > 0) {
      const index = left.findIndex((entry) =>
        (entry.depends_on as string[]).every((name) => placed.includes(name)),
      );
      placed.push(left.splice(index, 1)[0]?.name as string);
    }
    return placed;
  }

  test('random graphs: dependencies first, ties broken by declared order', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (let round = 0; round < 50; round++) {
      const count = 2 + Math.floor(random() * 12);
      // Edges only from a lower to a higher rank make a DAG; then declare in a shuffled order.
      const ranked = Array.from({ length: count }, (_, rank) => {
        const deps = Array.from({ length: rank }, (__, other) => other).filter(() => random() < 0.3);
        return step(
          `s${rank}`,
          deps.map((other) => `s${other}`),
        );
      });
      const shuffled = ranked.map((entry) => ({ entry, key: random() })).sort((a, b) => a.key - b.key);
      const declared = shuffled.map(({ entry }) => entry);
      assert.deepEqual(order(declared), referenceOrder(declared));
    }
  });

  test('a long chain or a long cycle does not overflow the stack', () => {
    const chain = Array.from({ length: 20_000 }, (_, index) =>
      step(`s${index}`, index === 0 ? [] : [`s${index - 1}`]),
    );
    assert.equal(order(chain.toReversed()).at(-1), 's19999');
    const cycle = [step('s0', ['s19999']), ...chain.slice(1)];
    const [problem] = problems(template(cycle));
    assert.equal(problem?.path, 'steps[0].depends_on[0]');
    assert.ok(
      problem?.message.startsWith('cycle: s0 -> s1 -> s2 -> ') && problem.message.endsWith('s19999 -> s0'),
    );
  });
});

describe('references', () => {
  test('templateKey', () => {
    assert.equal(
      templateKey({ namespace: 'billing', name: 'invoice', version: '1.0.0' }),
      'billing.invoice@1.0.0',
    );
  });

  test('parseTemplateRef accepts ns.name and ns.name@version', () => {
    assert.deepEqual(parseTemplateRef('billing.invoice'), { namespace: 'billing', name: 'invoice' });
    assert.deepEqual(parseTemplateRef('billing.invoice@1.2.3'), {
      namespace: 'billing',
      name: 'invoice',
      version: '1.2.3',
    });
    assert.deepEqual(parseTemplateRef('a-1.b_2@10.0.0-rc.1'), {
      namespace: 'a-1',
      name: 'b_2',
      version: '10.0.0-rc.1',
    });
  });

  test('parseTemplateRef rejects anything else with a ValidationError on `template`', () => {
    const bad = [
      '',
      'billing',
      'a.b.c',
      'Billing.invoice',
      'a.b@',
      'a.b@1.2',
      'a.b@v1.2.3',
      'a/b',
      'a.b@1.0.0@2',
      ' a.b',
      '.b',
    ];
    for (const ref of bad) {
      assert.throws(
        () => parseTemplateRef(ref),
        (error: Error & { code?: string; details?: ErrorDetail[] }) => {
          assert.equal(error.code, 'validation_failed');
          assert.equal(error.details?.[0]?.path, 'template');
          assert.equal(
            error.message,
            `invalid template reference: must be 'namespace.name' or 'namespace.name@1.2.3' (got '${ref}')`,
          );
          return true;
        },
      );
    }
  });

  test('parseHandlerRef', () => {
    assert.deepEqual(parseHandlerRef('demo/pack'), { namespace: 'demo', name: 'pack' });
    assert.deepEqual(parseHandlerRef('demo/pack@2.0.0'), {
      namespace: 'demo',
      name: 'pack',
      version: '2.0.0',
    });
    for (const ref of ['demo', 'demo.pack', 'demo/pack/x', 'demo/pack@2', 'Demo/pack'])
      assert.equal(parseHandlerRef(ref), undefined);
  });
});

describe('parseTemplateSource', () => {
  const yamlText = [
    'namespace: demo',
    'name: flow',
    'version: 1.0.0',
    'input_schema: { type: object, required: [order_id] }',
    'steps:',
    '  - name: a',
    '    handler: demo/a',
    '  - name: b',
    '    handler: { type: http, url: "https://x.example/{{input.id}}" }',
    '    depends_on: [a]',
  ].join('\n');
  const expected = {
    namespace: 'demo',
    name: 'flow',
    version: '1.0.0',
    input_schema: { type: 'object', required: ['order_id'] },
    steps: [
      { name: 'a', handler: 'demo/a' },
      { name: 'b', handler: { type: 'http', url: 'https://x.example/{{input.id}}' }, depends_on: ['a'] },
    ],
  };

  test('reads YAML, and JSON with either format', () => {
    assert.deepEqual(parseTemplateSource(yamlText), expected);
    const json = JSON.stringify(expected, null, 2);
    assert.deepEqual(parseTemplateSource(json), expected);
    assert.deepEqual(parseTemplateSource(json, 'json'), expected);
    assert.equal(parseTemplateSource(''), null);
  });

  test('malformed YAML names the line and column', () => {
    const text = 'namespace: demo\nsteps: [a, b\nname: flow\n';
    assert.throws(
      () => parseTemplateSource(text),
      (error: Error & { code?: string; details?: ErrorDetail[] }) => {
        assert.equal(error.code, 'validation_failed');
        assert.match(error.message, /^invalid YAML: line 3, column 1: /);
        assert.equal(error.details?.[0]?.path, 'line 3, column 1');
        return true;
      },
    );
  });

  test('duplicate keys and unknown tags are errors', () => {
    assert.throws(
      () => parseTemplateSource('name: a\nname: b\n'),
      /invalid YAML: line 2, column 1: Map keys must be unique/,
    );
    assert.throws(
      () => parseTemplateSource('name: !secret x\n'),
      /invalid YAML: line 1, column 7: Unresolved tag: !secret/,
    );
  });

  test('an alias bomb is refused', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [index, name] of ['b', 'c', 'd', 'e', 'f'].entries()) {
      const previous = String.fromCharCode(97 + index);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
    }
    assert.throws(() => parseTemplateSource(levels.join('\n')), /^ValidationError: invalid YAML: .*alias/i);
  });

  test('malformed JSON names the line and column', () => {
    assert.throws(
      () => parseTemplateSource('{\n  "a": 1,\n}', 'json'),
      /^ValidationError: invalid JSON: .*line 3 column 1/,
    );
    // Valid YAML is not valid JSON: the json format is strict.
    assert.throws(() => parseTemplateSource('a: 1', 'json'), /invalid JSON/);
  });

  test('a bare YAML 1.0 version is a number, which validation then rejects', () => {
    const parsed = parseTemplateSource(
      'namespace: demo\nname: flow\nversion: 1.0\nsteps: [{ name: a, handler: demo/a }]',
    );
    assert.deepEqual(problems(parsed), [
      { path: 'version', message: "must be a semantic version such as '1.0.0' (got 1)" },
    ]);
  });
});

describe('loadTemplateDir', () => {
  test('reads yaml, yml and json files sorted by name, lists included, nothing else', async () => {
    const entries = await loadTemplateDir(FIXTURES);
    assert.deepEqual(
      entries.map(({ file, source }) => ({ file, source })),
      [
        { file: join(FIXTURES, 'billing.json'), source: 'billing.json' },
        { file: join(FIXTURES, 'order-fulfilment.yaml'), source: 'order-fulfilment.yaml' },
        { file: join(FIXTURES, 'pipelines.yml'), source: 'pipelines.yml[0]' },
        { file: join(FIXTURES, 'pipelines.yml'), source: 'pipelines.yml[1]' },
      ],
    );
    const versions = entries.map(({ template }) => (template as { version: string }).version);
    assert.deepEqual(versions, ['2.0.0', '1.0.0', '9.0.0', '10.0.0']);
  });

  test('reports every unreadable file in one ValidationError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-templates-'));
    try {
      await writeFile(join(dir, 'a-good.yaml'), 'namespace: demo\n');
      await writeFile(join(dir, 'b-bad.yaml'), 'namespace: demo\nsteps: [a\nname: x\n');
      await writeFile(join(dir, 'c-bad.json'), '{ "namespace": "demo", }');
      await assert.rejects(
        loadTemplateDir(dir),
        (error: Error & { code?: string; details?: ErrorDetail[] }) => {
          assert.equal(error.code, 'validation_failed');
          assert.deepEqual(
            error.details?.map((detail) => detail.path),
            ['b-bad.yaml', 'c-bad.json'],
          );
          assert.match(error.details?.[0]?.message ?? '', /^invalid YAML: line 3, column 1: /);
          assert.match(error.details?.[1]?.message ?? '', /^invalid JSON: .*line 1 column 24/);
          assert.ok(
            error.message.startsWith(
              `invalid template files in ${dir}: 2 problems: b-bad.yaml: invalid YAML`,
            ),
          );
          return true;
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a missing folder is an error, not an empty list', async () => {
    await assert.rejects(loadTemplateDir(join(FIXTURES, 'no-such-folder')), { code: 'ENOENT' });
  });
});

describe('input schemas', () => {
  const orderSchema = {
    type: 'object',
    required: ['order_id'],
    additionalProperties: false,
    properties: {
      order_id: { type: 'string' },
      email: { type: 'string', format: 'email' },
      items: {
        type: 'array',
        items: { type: 'object', properties: { qty: { type: 'integer', minimum: 1 } } },
      },
      'gift note': { type: 'string' },
      colour: { enum: ['red', 'green'] },
    },
  };

  function inputProblems(input: unknown, root?: string): ErrorDetail[] {
    const validate = compileSchema(orderSchema);
    assert.equal(validate(input), false);
    return formatSchemaErrors(validate.errors, root);
  }

  test('compiles once per schema object', () => {
    assert.equal(compileSchema(orderSchema), compileSchema(orderSchema));
    assert.notEqual(compileSchema({ ...orderSchema }), compileSchema(orderSchema));
    const validate = compileSchema(orderSchema);
    assert.equal(validate({ order_id: 'o-1', items: [{ qty: 2 }] }), true);
  });

  test("compiles a registered template's frozen schema", () => {
    const result = validateTemplate(template([step('a')], { input_schema: orderSchema }), context);
    const schema = result.input_schema ?? {};
    assert.equal(compileSchema(schema), compileSchema(schema));
    assert.equal(compileSchema(schema)({ order_id: 'x' }), true);
  });

  test('errors have paths under input and readable messages', () => {
    assert.deepEqual(inputProblems({}), [
      { path: 'input.order_id', message: "must have required property 'order_id'" },
    ]);
    assert.deepEqual(
      inputProblems({
        order_id: 5,
        email: 'nope',
        items: [{ qty: 1 }, { qty: 0 }],
        'gift note': 1,
        colour: 'blue',
        x: 1,
      }),
      [
        { path: 'input.x', message: 'must NOT have additional properties' },
        { path: 'input.order_id', message: 'must be string' },
        { path: 'input.email', message: 'must match format "email"' },
        { path: 'input.items[1].qty', message: 'must be >= 1' },
        { path: 'input["gift note"]', message: 'must be string' },
        { path: 'input.colour', message: 'must be equal to one of the allowed values: "red", "green"' },
      ],
    );
    assert.deepEqual(inputProblems([], 'body'), [{ path: 'body', message: 'must be object' }]);
    assert.deepEqual(formatSchemaErrors(null), []);
  });

  test('draft 2020-12 is used when $schema asks for it', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'array',
      prefixItems: [{ type: 'string' }],
    };
    assert.deepEqual(schemaProblems(schema), []);
    const validate = compileSchema(schema);
    assert.equal(validate(['a', 1]), true);
    assert.equal(validate([1]), false);
    assert.deepEqual(formatSchemaErrors(validate.errors), [{ path: 'input[0]', message: 'must be string' }]);
  });

  test('an unknown $schema is an invalid schema', () => {
    assert.deepEqual(schemaProblems({ $schema: 'http://json-schema.org/draft-04/schema#' }), [
      {
        path: 'input_schema',
        message:
          'is not a valid JSON Schema: no schema with key or ref "http://json-schema.org/draft-04/schema#"',
      },
    ]);
  });

  test('schemas may share an $id and refer to their own root', () => {
    const first = { $id: 'https://schemas.example/order', type: 'object', required: ['a'] };
    const second = { $id: 'https://schemas.example/order', type: 'object', required: ['b'] };
    assert.deepEqual([schemaProblems(first), schemaProblems(second)], [[], []]);
    assert.equal(compileSchema(first)({ a: 1 }), true);
    assert.equal(compileSchema(second)({ a: 1 }), false);
    const tree = {
      type: 'object',
      properties: { v: { type: 'integer' }, children: { type: 'array', items: { $ref: '#' } } },
    };
    const validate = compileSchema(tree);
    assert.equal(validate({ v: 1, children: [{ v: 2, children: [{ v: 'x' }] }] }), false);
    assert.deepEqual(formatSchemaErrors(validate.errors), [
      { path: 'input.children[0].children[0].v', message: 'must be integer' },
    ]);
  });

  test("a schema claiming a meta-schema's $id is refused and breaks nothing", () => {
    const impostor = { $id: 'http://json-schema.org/draft-07/schema#', type: 'string' };
    assert.match(schemaProblems(impostor)[0]?.message ?? '', /already exists/);
    assert.equal(schemaProblems({ type: 'strnig' }).length, 3);
    assert.equal(compileSchema({ type: 'object' })({}), true);
  });
});
