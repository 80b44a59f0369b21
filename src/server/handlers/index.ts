/** Baton's own payload handlers (SPEC §3), registered by `createServer` unless told otherwise. */
import type { Engine } from '../../engine/index.ts';
import type { PayloadHandlerRegistry } from '../registry.ts';
import { stateQueryHandler } from './state-query.ts';
import { stateRestoreHandler } from './state-restore.ts';
import { taskCancelHandler } from './task-cancel.ts';
import { taskRequestHandler, type TaskRequestOptions } from './task-request.ts';
import { taskStreamHandler } from './task-stream.ts';

export type BatonHandlerOptions = TaskRequestOptions;

/** `task.request` (unary and streaming), `task.cancel`, `state_query` and `state_restore` on `engine`. */
export function registerBatonHandlers(
  registry: PayloadHandlerRegistry,
  engine: Engine,
  options: BatonHandlerOptions = {},
): void {
  registry.register('task.request', taskRequestHandler(engine, options));
  registry.registerStreaming('task.request', taskStreamHandler(engine, options));
  registry.register('task.cancel', taskCancelHandler(engine));
  registry.register('state_query', stateQueryHandler(engine));
  registry.register('state_restore', stateRestoreHandler(engine));
}

export { DEFAULT_TASK_TIMEOUT_SECONDS, taskRequestHandler, type TaskRequestOptions } from './task-request.ts';
export { TASK_STREAM_PAYLOAD_TYPE, taskStreamHandler } from './task-stream.ts';
export { taskCancelHandler } from './task-cancel.ts';
export { STATE_SNAPSHOT_PAYLOAD_TYPE, stateQueryHandler } from './state-query.ts';
export { STATE_RESTORE_ACK_PAYLOAD_TYPE, stateRestoreHandler } from './state-restore.ts';
export { asapStatus } from './tasks.ts';
