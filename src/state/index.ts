/**
 * The ASAP protocol's state stores (asap-wire §7): task state snapshots and agent usage
 * metering, on SQLite and PostgreSQL. A Baton store carries both as `store.state`.
 */
export type * from './types.ts';
export { USAGE_PERIODS } from './types.ts';
export { decodeJsonSafe, encodeJsonSafe, type JsonValue } from './json-safe.ts';
export { SqliteMeteringStore, SqliteSnapshotStore } from './sqlite.ts';
export { PostgresMeteringStore, PostgresSnapshotStore } from './postgres.ts';
export { taskState, type TaskState } from './task-state.ts';
