/** Baton's own payload handlers (SPEC §3), registered by `createServer` unless told otherwise. */
import type { Engine } from '../../engine/index.ts';
import type { PayloadHandlerRegistry } from '../registry.ts';
import { stateQueryHandler } from './state-query.ts';
import { taskCancelHandler } from './task-cancel.ts';
import { taskRequestHandler, type TaskRequestOptions } from './task-request.ts';
import { taskStreamHandler } from './task-stream.ts';

export type BatonHandlerOptions = TaskRequestOptions;

/** `task.request` (unary and streaming), `task.cancel` and `state_query` on `engine`. */
export function registerBatonHandlers(
  registry: PayloadHandlerRegistry,
  engine: Engine,
  options: BatonHandlerOptions = {},
): void {
  registry.register('task.request', taskRequestHandler(engine, options));
  registry.registerStreaming('task.request', taskStreamHandler(engine, options));
  registry.register('task.cancel', taskCancelHandler(engine));
  registry.register('state_query', stateQueryHandler(engine));
}

export { DEFAULT_TASK_TIMEOUT_SECONDS, taskRequestHandler, type TaskRequestOptions } from './task-request.ts';
export { TASK_STREAM_PAYLOAD_TYPE, taskStreamHandler } from './task-stream.ts';
export { taskCancelHandler } from './task-cancel.ts';
export { STATE_SNAPSHOT_PAYLOAD_TYPE, stateQueryHandler } from './state-query.ts';
export { asapStatus } from './tasks.ts';
