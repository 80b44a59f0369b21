/**
 * Templates from YAML files: register the handlers, then load every template of a folder.
 *
 *   npx node examples/yaml-templates.ts
 *
 * Runs examples/templates/order.yaml twice: an order that completes (its charge step fails once
 * and is retried on the template's schedule), and one that fails for good and lands in the
 * dead-letter queue.
 */
import { fileURLToPath } from 'node:url';
import { createEngine, PermanentError, type TaskView } from '../src/index.ts';

const engine = await createEngine({ store: 'sqlite::memory:' });

// Handlers first: loading a template checks that every handler it names is registered.
let charges = 0;
const handlers = {
  'reserve-stock': (ctx) => {
    const { items } = ctx.input as { items: number };
    if (items > 10) throw new PermanentError(`cannot reserve ${items} items, 10 in stock`);
    return { reserved: items };
  },
  'charge-card': () => {
    // A plain Error is retryable: attempt 2 runs after the template's schedule_ms[0] (50 ms).
    if (++charges === 1) throw new Error('payment gateway timeout');
    return { charge_id: `ch_${charges}` };
  },
  pack: (ctx) => ({ parcel: `parcel for ${(ctx.results.reserve as { reserved: number }).reserved} items` }),
  ship: (ctx) => ({ tracking: 'TRK-1', parcel: (ctx.results.pack as { parcel: string }).parcel }),
} satisfies Record<string, Parameters<typeof engine.registerHandler>[0]['handler']>;
for (const [name, handler] of Object.entries(handlers)) {
  engine.registerHandler({ namespace: 'shop', name, version: '1.0.0', handler });
}

// All the folder's templates are registered, or none if any file is invalid.
const templates = await engine.loadTemplates(fileURLToPath(new URL('templates', import.meta.url)));
console.log(`loaded: ${templates.map((t) => `${t.namespace}.${t.name}@${t.version}`).join(', ')}`);

engine.startWorkers();

function printSteps(task: TaskView): void {
  console.log(`${JSON.stringify(task.input)} → ${task.status}`);
  for (const step of task.steps) {
    const error = step.error ? ` (${step.error.message})` : '';
    console.log(`  ${step.name.padEnd(8)} ${step.status.padEnd(10)} attempts ${step.attempts}${error}`);
  }
}

const ok = await engine.startTask({ template: 'shop.order', input: { order_id: 'A-1', items: 3 } });
printSteps(await engine.waitForTask(ok.task.id));

// reserve throws a PermanentError: no retry; the dependents are skipped and the task fails.
const bad = await engine.startTask({ template: 'shop.order', input: { order_id: 'A-2', items: 50 } });
printSteps(await engine.waitForTask(bad.task.id));
const { dead_letters } = await engine.listDeadLetters();
for (const entry of dead_letters) {
  console.log(`dead letter ${entry.id}: task ${entry.task_id}, step ${entry.step}: ${entry.error?.message}`);
}

await engine.close();
