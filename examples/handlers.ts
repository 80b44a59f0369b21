/**
 * The step handlers of examples/templates/order.yaml (`shop.order`), as a handlers module: its
 * default export receives the engine. `baton serve` loads it (with the templates folder) when no
 * handlers are configured, and any worker can too:
 *
 *   npm run baton -- worker --handlers examples/handlers.ts --templates-dir examples/templates
 */
import { PermanentError, type Engine, type StepHandler } from '../src/index.ts';

const handlers: Record<string, StepHandler> = {
  'reserve-stock': (ctx) => {
    const { items } = ctx.input as { items: number };
    if (items > 10) throw new PermanentError(`cannot reserve ${items} items, 10 in stock`);
    return { reserved: items };
  },
  'charge-card': (ctx) => ({ charge_id: `ch_${ctx.task.id.slice(-8)}` }),
  pack: (ctx) => ({ parcel: `parcel of ${(ctx.results.reserve as { reserved: number }).reserved} items` }),
  ship: (ctx) => ({
    tracking: `TRK-${ctx.task.id.slice(-6)}`,
    parcel: (ctx.results.pack as { parcel: string }).parcel,
  }),
};

export default function registerShopHandlers(engine: Engine): void {
  for (const [name, handler] of Object.entries(handlers)) {
    engine.registerHandler({ namespace: 'shop', name, version: '1.0.0', handler });
  }
}
