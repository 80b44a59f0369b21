/**
 * Baton: durable, resilient workflows. The engine and its configuration; the store seam for
 * custom deployments. See the README for a tour.
 */
export * from './engine/index.ts';
export { openStore, SqliteStore, type Store } from './storage/index.ts';
export {
  BatonError,
  ConflictError,
  NotFoundError,
  ValidationError,
  isBatonError,
  type ErrorCode,
} from './util/errors.ts';
