/**
 * One task's state in a snapshot store, as step handlers and payload handlers use it: read the
 * latest (or one) version, save the next version, restore an earlier snapshot as the newest.
 */
import { ulid } from '../util/ids.ts';
import type { SnapshotStore, StateSnapshot } from './types.ts';

export interface TaskState {
  /** The latest snapshot, or the given version; `undefined` when there is none. */
  get(version?: number): Promise<StateSnapshot | undefined>;
  /**
   * Saves `data` as the next version (the latest + 1, from 1). Two saves of one task at the same
   * moment may pick the same version; the later one replaces the other, as the store upserts.
   */
  save(data: Record<string, unknown>, options?: { checkpoint?: boolean }): Promise<StateSnapshot>;
  /** The task's versions, ascending. */
  versions(): Promise<number[]>;
  /**
   * Makes the snapshot `snapshotId` current again: saves its data as the next version, marked as
   * a checkpoint. `undefined` when the task has no snapshot with that id.
   */
  restore(snapshotId: string): Promise<StateSnapshot | undefined>;
}

/** `taskId`'s state in `snapshots`. */
export function taskState(snapshots: SnapshotStore, taskId: string): TaskState {
  const saveNext = async (data: Record<string, unknown>, checkpoint: boolean): Promise<StateSnapshot> => {
    const latest = (await snapshots.listVersions(taskId)).at(-1) ?? 0;
    return snapshots.save({
      id: `snap_${ulid()}`,
      task_id: taskId,
      version: latest + 1,
      data,
      checkpoint,
      created_at: new Date(),
    });
  };
  return {
    get: (version) => (version === undefined ? snapshots.get(taskId) : snapshots.get(taskId, version)),
    save: (data, options = {}) => saveNext(data, options.checkpoint ?? false),
    versions: () => snapshots.listVersions(taskId),
    async restore(snapshotId) {
      const snapshot = await snapshots.getById(taskId, snapshotId);
      return snapshot && saveNext(snapshot.data, true);
    },
  };
}
