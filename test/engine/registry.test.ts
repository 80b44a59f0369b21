import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ErrorDetail } from '../../src/util/errors.ts';
import type { BuiltinHandler, StepHandler } from '../../src/engine/handler.ts';
import { HandlerRegistry, TemplateRegistry } from '../../src/engine/registry.ts';
import { loadTemplateDir } from '../../src/engine/templates.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'templates');

const noop: StepHandler = () => null;
const builtinNoop: BuiltinHandler = { run: () => null };

type BatonErrorShape = Error & { code?: string; details?: readonly ErrorDetail[] };

/** Runs `action`, expects a Baton error with `code`, returns it. */
function caught(action: () => unknown, code: string): BatonErrorShape {
  try {
    action();
  } catch (error) {
    assert.equal((error as BatonErrorShape).code, code, String(error));
    return error as BatonErrorShape;
  }
  assert.fail(`expected a ${code} error`);
}

function handlerRegistry(...refs: string[]): HandlerRegistry {
  const handlers = new HandlerRegistry();
  for (const ref of refs) {
    const [id = '', version] = ref.split('@');
    const [namespace = '', name = ''] = id.split('/');
    handlers.register({ namespace, name, ...(version && { version }), handler: noop });
  }
  return handlers;
}

function template(
  namespace: string,
  name: string,
  version: string,
  handler = 'demo/a',
): Record<string, unknown> {
  return { namespace, name, version, steps: [{ name: 'only', handler }] };
}

describe('HandlerRegistry', () => {
  test('register returns a frozen entry with defaults', () => {
    const handlers = new HandlerRegistry();
    const entry = handlers.register({ namespace: 'demo', name: 'reserve-stock', handler: noop });
    assert.deepEqual(entry, {
      namespace: 'demo',
      name: 'reserve-stock',
      version: '0.1.0',
      key: 'demo/reserve-stock@0.1.0',
      handler: noop,
      description: '',
      kind: 'code',
    });
    assert.ok(Object.isFrozen(entry));
    assert.equal(handlers.byKey('demo/reserve-stock@0.1.0'), entry);
    assert.equal(handlers.byKey('demo/reserve-stock'), undefined);
  });

  test('the same key again is a conflict unless replace is passed', () => {
    const handlers = new HandlerRegistry();
    handlers.register({ namespace: 'demo', name: 'a', version: '1.0.0', handler: noop });
    const error = caught(
      () => handlers.register({ namespace: 'demo', name: 'a', version: '1.0.0', handler: noop }),
      'conflict',
    );
    assert.equal(
      error.message,
      'handler demo/a@1.0.0 is already registered (pass { replace: true } to replace it)',
    );
    const replacement: StepHandler = () => 'new';
    handlers.register(
      { namespace: 'demo', name: 'a', version: '1.0.0', handler: replacement },
      { replace: true },
    );
    assert.equal(handlers.resolve('demo/a')?.handler, replacement);
    assert.deepEqual(handlers.keys(), ['demo/a@1.0.0']);
  });

  test('bad definitions are rejected with every problem', () => {
    const bad = { namespace: 'Demo', name: 'a b', version: '1.0', handler: 'nope', description: 3 };
    const error = caught(() => new HandlerRegistry().register(bad as never), 'validation_failed');
    assert.deepEqual(
      error.details?.map((detail) => detail.path),
      ['namespace', 'name', 'version', 'handler', 'description'],
    );
    assert.match(
      error.message,
      /^invalid handler definition: 5 problems: namespace: must be 1 to 64 lowercase/,
    );
    assert.deepEqual(
      caught(() => new HandlerRegistry().register(null as never), 'validation_failed').details,
      [{ message: 'a handler definition must be an object (got null)' }],
    );
  });

  test("the 'builtin' namespace is reserved", () => {
    const error = caught(
      () => new HandlerRegistry().register({ namespace: 'builtin', name: 'http', handler: noop }),
      'validation_failed',
    );
    assert.deepEqual(error.details, [
      { path: 'namespace', message: "'builtin' is reserved for built-in handler types" },
    ]);
  });

  test('a reference without a version resolves to the highest semver (10.0.0 > 9.0.0)', () => {
    const handlers = handlerRegistry('demo/a@9.0.0', 'demo/a@10.0.0', 'demo/a@2.0.0', 'demo/a@10.0.0-rc.1');
    assert.equal(handlers.resolve('demo/a')?.version, '10.0.0');
    assert.equal(handlers.resolve('demo/a@9.0.0')?.version, '9.0.0');
    assert.equal(handlers.resolve('demo/a@10.0.0-rc.1')?.key, 'demo/a@10.0.0-rc.1');
    assert.equal(handlers.resolve('demo/a@3.0.0'), undefined);
    assert.equal(handlers.resolve('demo/b'), undefined);
    assert.equal(handlers.resolve('demo/a@latest'), undefined);
    assert.equal(handlers.resolve('demo.a'), undefined);
    assert.equal(handlers.has('demo/a'), true);
    assert.equal(handlers.has('demo/a@1.0.0'), false);
  });

  test('the same name in two namespaces are two handlers', () => {
    const handlers = new HandlerRegistry();
    const billing: StepHandler = () => 'billing';
    const shipping: StepHandler = () => 'shipping';
    handlers.register({ namespace: 'billing', name: 'notify', handler: billing });
    handlers.register({ namespace: 'shipping', name: 'notify', handler: shipping });
    assert.equal(handlers.resolve('billing/notify')?.handler, billing);
    assert.equal(handlers.resolve('shipping/notify')?.handler, shipping);
  });

  test('built-ins: registered by type, keyed builtin:<type>, conflicts like code handlers', () => {
    const handlers = new HandlerRegistry();
    handlers.registerBuiltin('http', builtinNoop, 'one request through the resilient client');
    assert.equal(handlers.hasBuiltin('http'), true);
    assert.equal(handlers.hasBuiltin('asap'), false);
    assert.equal(handlers.builtin('http'), builtinNoop);
    assert.equal(handlers.builtin('asap'), undefined);
    assert.equal(handlers.has('builtin/http'), false);
    caught(() => handlers.registerBuiltin('http', builtinNoop), 'conflict');
    const replacement: BuiltinHandler = { run: () => 'new' };
    handlers.registerBuiltin('http', replacement, '', { replace: true });
    assert.equal(handlers.builtin('http'), replacement);
    const error = caught(() => handlers.registerBuiltin('HTTP', 'x' as never), 'validation_failed');
    assert.deepEqual(
      error.details?.map((detail) => detail.path),
      ['type', 'handler'],
    );
  });

  test('keys lists every runnable key, built-ins included, sorted', () => {
    const handlers = handlerRegistry('demo/b@1.0.0', 'demo/a@2.0.0', 'billing/x');
    handlers.registerBuiltin('http', builtinNoop);
    handlers.registerBuiltin('asap', builtinNoop);
    assert.deepEqual(handlers.keys(), [
      'billing/x@0.1.0',
      'builtin:asap',
      'builtin:http',
      'demo/a@2.0.0',
      'demo/b@1.0.0',
    ]);
  });

  test('listByNamespace groups by namespace, sorted by name then highest version', () => {
    const handlers = new HandlerRegistry();
    for (const [namespace, name, version] of [
      ['shipping', 'notify', '1.0.0'],
      ['billing', 'notify', '9.0.0'],
      ['billing', 'charge', '1.0.0'],
      ['billing', 'notify', '10.0.0'],
    ] as const) {
      handlers.register({ namespace, name, version, handler: noop, description: `${name} ${version}` });
    }
    handlers.registerBuiltin('http', builtinNoop, 'HTTP call');
    const listing = handlers.listByNamespace();
    assert.deepEqual(Object.keys(listing), ['billing', 'builtin', 'shipping']);
    assert.deepEqual(listing, {
      billing: [
        { name: 'charge', version: '1.0.0', kind: 'code', description: 'charge 1.0.0' },
        { name: 'notify', version: '10.0.0', kind: 'code', description: 'notify 10.0.0' },
        { name: 'notify', version: '9.0.0', kind: 'code', description: 'notify 9.0.0' },
      ],
      builtin: [{ name: 'http', version: '', kind: 'builtin', description: 'HTTP call' }],
      shipping: [{ name: 'notify', version: '1.0.0', kind: 'code', description: 'notify 1.0.0' }],
    });
  });
});

describe('TemplateRegistry', () => {
  function registries(...handlerRefs: string[]): { handlers: HandlerRegistry; templates: TemplateRegistry } {
    const handlers = handlerRegistry('demo/a', ...handlerRefs);
    return { handlers, templates: new TemplateRegistry(handlers) };
  }

  test('validates against the handler registry it was given', () => {
    const { handlers, templates } = registries();
    const unknown = caught(
      () => templates.register(template('demo', 'flow', '1.0.0', 'demo/b')),
      'validation_failed',
    );
    assert.deepEqual(unknown.details, [
      {
        path: 'steps[0].handler',
        message: "unknown handler 'demo/b': no handler is registered under that reference",
      },
    ]);
    caught(() => templates.register(template('demo', 'flow', '1.0.0', 'demo/a@2.0.0')), 'validation_failed');
    handlers.register({ namespace: 'demo', name: 'a', version: '2.0.0', handler: noop });
    handlers.registerBuiltin('http', builtinNoop);
    templates.register(template('demo', 'flow', '1.0.0', 'demo/a@2.0.0'));
    templates.register({
      namespace: 'demo',
      name: 'call',
      steps: [{ name: 'get', handler: { type: 'http' } }],
    });
    assert.deepEqual(
      templates.list().map((entry) => `${entry.namespace}.${entry.name}@${entry.version}`),
      ['demo.call@0.1.0', 'demo.flow@1.0.0'],
    );
  });

  test('the same ns.name@version again is a conflict unless replace is passed', () => {
    const { templates } = registries();
    const first = templates.register(template('demo', 'flow', '1.0.0'));
    const error = caught(
      () => templates.register({ ...template('demo', 'flow', '1.0.0'), description: 'v2' }),
      'conflict',
    );
    assert.equal(
      error.message,
      'template demo.flow@1.0.0 is already registered (to replace: { replace: true } in code, ?replace=true over REST, --replace in the CLI)',
    );
    assert.equal(templates.resolve('demo.flow'), first);
    const second = templates.register(
      { ...template('demo', 'flow', '1.0.0'), description: 'v2' },
      { replace: true },
    );
    assert.equal(templates.resolve('demo.flow@1.0.0'), second);
    assert.equal(templates.list().length, 1);
  });

  test('resolve: latest by semver (10.0.0 > 9.0.0), or an exact version', () => {
    const { templates } = registries();
    for (const version of ['9.0.0', '10.0.0', '1.0.0', '10.0.0-beta.1'])
      templates.register(template('demo', 'flow', version));
    assert.equal(templates.resolve('demo.flow')?.version, '10.0.0');
    assert.equal(templates.resolve('demo.flow@9.0.0')?.version, '9.0.0');
    assert.equal(templates.resolve('demo.flow@2.0.0'), undefined);
    assert.equal(templates.resolve('demo.other'), undefined);
    assert.equal(templates.resolve('other.flow'), undefined);
    caught(() => templates.resolve('demo/flow'), 'validation_failed');
  });

  test('registerMany is atomic: one bad template and none is registered', () => {
    const { templates } = registries();
    const batch = [
      template('demo', 'one', '1.0.0'),
      template('demo', 'two', '1.0.0', 'demo/missing'),
      template('demo', 'three', '1.0.0'),
      'not a template',
    ];
    const error = caught(() => templates.registerMany(batch), 'validation_failed');
    assert.deepEqual(error.details, [
      {
        path: '[1].steps[0].handler',
        message: "unknown handler 'demo/missing': no handler is registered under that reference",
      },
      { path: '[3]', message: "a template must be an object (got 'not a template')" },
    ]);
    assert.match(
      error.message,
      /^invalid templates, none registered: 2 problems: \[1\]\.steps\[0\]\.handler: unknown handler/,
    );
    assert.deepEqual(templates.list(), []);
  });

  test('registerMany labels problems with the given sources', () => {
    const { templates } = registries();
    const error = caught(
      () =>
        templates.registerMany([template('demo', 'one', '1.0'), template('demo', 'two', '1.0.0')], {
          sources: ['flows.yaml[0]', 'two.json'],
        }),
      'validation_failed',
    );
    assert.deepEqual(error.details, [
      { path: 'flows.yaml[0].version', message: "must be a semantic version such as '1.0.0' (got '1.0')" },
    ]);
  });

  test('registerMany rejects the same key twice in one batch, even with replace', () => {
    const { templates } = registries();
    const batch = [
      template('demo', 'one', '1.0.0'),
      template('demo', 'two', '1.0.0'),
      template('demo', 'one', '1.0.0'),
    ];
    const error = caught(() => templates.registerMany(batch, { replace: true }), 'validation_failed');
    assert.deepEqual(error.details, [
      { path: '[2]', message: 'duplicate template demo.one@1.0.0 (also defined by [0])' },
    ]);
    assert.deepEqual(templates.list(), []);
  });

  test('registerMany: a conflict with a registered template registers none of the batch', () => {
    const { templates } = registries();
    templates.register(template('demo', 'one', '1.0.0'));
    const batch = [
      template('demo', 'new', '1.0.0'),
      template('demo', 'one', '1.0.0'),
      template('demo', 'two', '1.0.0'),
    ];
    const error = caught(() => templates.registerMany(batch), 'conflict');
    assert.equal(
      error.message,
      'template demo.one@1.0.0 is already registered (to replace: { replace: true } in code, ?replace=true over REST, --replace in the CLI)',
    );
    assert.deepEqual(
      templates.list().map((entry) => entry.name),
      ['one'],
    );
    const registered = templates.registerMany(batch, { replace: true });
    assert.deepEqual(
      registered.map((entry) => entry.name),
      ['new', 'one', 'two'],
    );
    assert.ok(registered.every((entry) => Object.isFrozen(entry)));
    assert.equal(templates.list().length, 3);
  });

  test('list and listByNamespace: by namespace, name, then highest version', () => {
    const { templates } = registries();
    for (const [namespace, name, version] of [
      ['ops', 'backup', '1.0.0'],
      ['billing', 'invoice', '9.0.0'],
      ['billing', 'invoice', '10.0.0'],
      ['billing', 'charge', '1.0.0'],
      ['billing-eu', 'charge', '1.0.0'],
    ] as const) {
      templates.register(template(namespace, name, version));
    }
    const keys = templates.list().map((entry) => `${entry.namespace}.${entry.name}@${entry.version}`);
    assert.deepEqual(keys, [
      'billing.charge@1.0.0',
      'billing.invoice@10.0.0',
      'billing.invoice@9.0.0',
      'billing-eu.charge@1.0.0',
      'ops.backup@1.0.0',
    ]);
    const grouped = templates.listByNamespace();
    assert.deepEqual(Object.keys(grouped), ['billing', 'billing-eu', 'ops']);
    assert.deepEqual(
      grouped.billing?.map((entry) => `${entry.name}@${entry.version}`),
      ['charge@1.0.0', 'invoice@10.0.0', 'invoice@9.0.0'],
    );
  });

  test('the fixture folder registers as one batch, steps in dependency order', async () => {
    const { handlers, templates } = registries(
      'demo/reserve-stock',
      'demo/pack',
      'billing/send-invoice@1.0.0',
      'billing/render-invoice',
      'data/fetch',
      'data/store',
    );
    handlers.registerBuiltin('http', builtinNoop);
    handlers.registerBuiltin('asap', builtinNoop);
    const entries = await loadTemplateDir(FIXTURES);
    const registered = templates.registerMany(
      entries.map((entry) => entry.template),
      { sources: entries.map((entry) => entry.source) },
    );
    assert.equal(registered.length, 4);
    assert.deepEqual(
      templates.resolve('billing.invoice')?.steps.map((entry) => entry.name),
      ['render', 'send'],
    );
    assert.deepEqual(
      templates.resolve('demo.order-fulfilment')?.steps.map((entry) => entry.name),
      ['reserve', 'charge', 'pack', 'ship'],
    );
    assert.equal(templates.resolve('data.ingest')?.version, '10.0.0');
  });

  test('a folder with an unknown handler is rejected as a whole, naming the file', async () => {
    const { templates } = registries('demo/reserve-stock', 'demo/pack', 'data/fetch', 'data/store');
    const entries = await loadTemplateDir(FIXTURES);
    const error = caught(
      () =>
        templates.registerMany(
          entries.map((entry) => entry.template),
          { sources: entries.map((entry) => entry.source) },
        ),
      'validation_failed',
    );
    assert.deepEqual(
      error.details?.map((detail) => detail.path),
      [
        'billing.json.steps[0].handler',
        'billing.json.steps[1].handler',
        'order-fulfilment.yaml.steps[1].handler.type',
        'order-fulfilment.yaml.steps[3].handler.type',
      ],
    );
    assert.deepEqual(templates.list(), []);
  });
});
