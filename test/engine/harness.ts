import { after } from 'node:test';
import { pino } from 'pino';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/index.ts';
import type { StepHandler } from '../../src/engine/handler.ts';

/**
 * An engine on in-memory SQLite with fast polling and quiet logs, closed after the test file.
 * Retries default to a few milliseconds so retry tests stay fast.
 */
export async function testEngine(options: Partial<EngineOptions> = {}): Promise<Engine> {
  const engine = await createEngine({
    store: 'sqlite::memory:',
    pollIntervalMs: 20,
    concurrency: 8,
    logger: pino({ level: 'silent' }),
    retry: { max_attempts: 3, backoff: { base_ms: 5, factor: 2, max_ms: 100, jitter: 0 } },
    ...options,
  });
  after(() => engine.close({ timeoutMs: 100 }));
  return engine;
}

/** Registers `test/<name>@1.0.0` handlers. */
export function handlers(engine: Engine, map: Record<string, StepHandler>): void {
  for (const [name, handler] of Object.entries(map))
    engine.registerHandler({ namespace: 'test', name, version: '1.0.0', handler });
}

export interface StepSketch {
  name: string;
  handler?: string;
  depends_on?: string[];
  [key: string]: unknown;
}

/** Registers `test.<name>` whose steps use `test/<step.handler ?? step.name>`. */
export function template(
  engine: Engine,
  name: string,
  steps: StepSketch[],
  extra: Record<string, unknown> = {},
): void {
  engine.registerTemplate({
    namespace: 'test',
    name,
    version: '1.0.0',
    steps: steps.map(({ handler, ...step }) => ({ ...step, handler: `test/${handler ?? step.name}` })),
    ...extra,
  });
}

/** Resolves after `ms` without keeping the process alive past the test. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A record of which steps started and finished when, to check dependency order. */
export function timeline() {
  const events: { step: string; at: 'start' | 'end'; seq: number }[] = [];
  let seq = 0;
  const wrap =
    (name: string, work: StepHandler = () => ({ step: name })): StepHandler =>
    async (context) => {
      events.push({ step: name, at: 'start', seq: seq++ });
      const result = await work(context);
      events.push({ step: name, at: 'end', seq: seq++ });
      return result;
    };
  const position = (step: string, at: 'start' | 'end') =>
    events.find((e) => e.step === step && e.at === at)?.seq ?? -1;
  const count = (step: string) => events.filter((e) => e.step === step && e.at === 'start').length;
  return { events, wrap, position, count };
}
