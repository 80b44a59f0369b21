/**
 * Quick start: the Baton engine API end to end, in one process.
 *
 *   npx node examples/quickstart.ts
 *
 * A diamond workflow (`customer` → `inventory` + `pricing` → `quote`) runs on SQLite in memory.
 * The inventory call fails once with a RetryableError and succeeds on its second attempt.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine, PermanentError, RetryableError, type StepContext } from '../src/index.ts';

interface QuoteInput {
  customer_id: string;
  sku: string;
  quantity: number;
}

// 1. An engine on an in-memory SQLite store (use `sqlite:./data/baton.db` to keep tasks on disk).
const engine = await createEngine({ store: 'sqlite::memory:' });

// 2. Handlers: async functions of a step context, registered as (namespace, name, version).
//    `shop/fetch` stands in for a call to another service; the step's name says which one.
const SERVICES: Record<string, (input: QuoteInput) => Record<string, unknown>> = {
  customer: (input) => ({ id: input.customer_id, region: 'eu' }),
  inventory: (input) => ({ sku: input.sku, in_stock: 7 }),
  pricing: (input) => ({ sku: input.sku, unit_price: 12.5, currency: 'EUR' }),
};
let inventoryCalls = 0;

engine.registerHandler({
  namespace: 'shop',
  name: 'fetch',
  version: '1.0.0',
  handler: async (ctx: StepContext) => {
    // ctx.signal is aborted on timeout, cancellation, lease loss or shutdown: pass it to I/O.
    await sleep(20, undefined, { signal: ctx.signal });
    if (ctx.step.name === 'inventory' && ++inventoryCalls === 1) {
      // Retried after the delay the "upstream" asked for; any other error is retried too.
      throw new RetryableError('inventory service busy', { retryAfterMs: 100 });
    }
    const answer = SERVICES[ctx.step.name]!(ctx.input as QuoteInput);
    ctx.log.debug({ answer }, 'fetched'); // a pino logger bound to the task, step and attempt
    // The result must be JSON-serialisable: it is stored and passed to the dependent steps.
    return { ...answer, attempt: ctx.attempt };
  },
});

engine.registerHandler({
  namespace: 'shop',
  name: 'quote',
  version: '1.0.0',
  handler: (ctx: StepContext) => {
    const input = ctx.input as QuoteInput;
    // ctx.results holds the results of the steps this one depends on, by step name.
    const inventory = ctx.results.inventory as { in_stock: number };
    const pricing = ctx.results.pricing as { unit_price: number; currency: string };
    if (inventory.in_stock < input.quantity) {
      throw new PermanentError(`only ${inventory.in_stock} of ${input.sku} in stock`); // no retry
    }
    return { total: input.quantity * pricing.unit_price, currency: pricing.currency };
  },
});

// 3. A template: a DAG of steps. Registration checks everything (names, dependencies, cycles,
//    handler references) and registers nothing if anything is wrong.
engine.registerTemplate({
  namespace: 'shop',
  name: 'quote',
  version: '1.0.0',
  input_schema: {
    type: 'object',
    required: ['customer_id', 'sku', 'quantity'],
    properties: { customer_id: { type: 'string' }, sku: { type: 'string' }, quantity: { type: 'integer' } },
  },
  steps: [
    { name: 'customer', handler: 'shop/fetch' },
    {
      name: 'inventory',
      handler: 'shop/fetch@1.0.0',
      depends_on: ['customer'],
      retry: { max_attempts: 3, backoff: { base_ms: 200 } },
      timeout_ms: 5000,
    },
    { name: 'pricing', handler: 'shop/fetch', depends_on: ['customer'] },
    { name: 'quote', handler: 'shop/quote', depends_on: ['inventory', 'pricing'] },
  ],
});

// 4. Events: every state change, after it is stored. A listener that throws is logged, never fatal.
engine.on('*', (event) => {
  if (event.type === 'step.started') console.log(`  ${event.step} started (attempt ${event.attempt})`);
  if (event.type === 'step.retry_scheduled') {
    console.log(
      `  ${event.step} failed: ${event.error?.message}; retry in ${String(event.data?.delay_ms)} ms`,
    );
  }
  if (event.type === 'step.completed') console.log(`  ${event.step} completed`);
});

// 5. Workers claim ready steps and run them (16 at a time by default).
engine.startWorkers();

// 6. Start a task. The same idempotency key returns the existing task instead of a new one.
const request = {
  template: 'shop.quote',
  input: { customer_id: 'c-42', sku: 'mug', quantity: 4 },
  idempotencyKey: 'quote-c-42-mug',
};
const { task, created } = await engine.startTask(request);
console.log(`started ${task.id} (created: ${created})`);
const again = await engine.startTask(request);
console.log(
  `same key again: ${again.task.id === task.id ? 'same task' : 'new task'} (created: ${again.created})`,
);

// 7. Wait for the task to finish; the view has its steps, result and full history.
const done = await engine.waitForTask(task.id, { timeoutMs: 10_000 });
console.log(`status: ${done.status}`);
console.log(`result: ${JSON.stringify(done.result)}`);
console.log(`inventory attempts: ${done.steps.find((step) => step.name === 'inventory')?.attempts}`);
console.log(`history: ${done.history?.length} transitions`);

// 8. Close: stops the workers (running steps get a grace period) and closes the store.
await engine.close();
