import type { StateStores } from '../state/types.ts';
import type {
  DeadLetterRow,
  EventDraft,
  EventRecord,
  StepRow,
  TaskRow,
  TaskState,
  TaskStatus,
} from './records.ts';

/** A new task with its steps, as the engine built it. Step ids are assigned by the store. */
export interface TaskDraft {
  task: TaskRow;
  steps: Omit<StepRow, 'id'>[];
  events: EventDraft[];
}

export interface CreateTaskResult {
  state: TaskState;
  /** False when an idempotency key matched an existing task, which is returned instead. */
  created: boolean;
  events: EventRecord[];
}

export interface ClaimRequest {
  workerId: string;
  /** How many steps at most. */
  limit: number;
  /** Only steps whose handler key is in this list (the handlers this process can run). */
  handlers: readonly string[];
  now: number;
  leaseMs: number;
}

/** A claimed step with everything its handler needs. */
export interface ClaimedStep {
  step: StepRow;
  task: Pick<TaskRow, 'id' | 'namespace' | 'name' | 'version' | 'input' | 'traceparent'>;
  /** Results of the steps it depends on, by step name. */
  results: Record<string, unknown>;
}

export interface ClaimResult {
  claimed: ClaimedStep[];
  events: EventRecord[];
}

/** Identifies one attempt of one step: a lease belongs to exactly one attempt. */
export interface LeaseRef {
  stepId: number;
  taskId: string;
  attempt: number;
}

/**
 * The change the engine decided for one task, given its current state. Rows are complete new
 * versions of the rows that changed.
 */
export interface TaskChange {
  task?: TaskRow;
  steps?: StepRow[];
  events?: EventDraft[];
  deadLetter?: DeadLetterRow;
  /** Mark the task's open dead-letter entries as handled (replayed or resolved). */
  closeDeadLetters?: boolean;
}

/**
 * Decides a task's change from its state, read under the task's lock. Returns null for "nothing
 * to do"; may throw a BatonError (e.g. conflict) to abort the whole batch.
 */
export type TaskPlanner = (state: TaskState) => TaskChange | null;

export interface TaskQuery {
  status?: TaskStatus;
  namespace?: string;
  /** Template name, without namespace. */
  name?: string;
  limit: number;
  /** The id of the last task of the previous page (tasks are listed newest first). */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface EventQuery {
  afterSeq?: number;
  taskId?: string;
  limit: number;
}

export interface DeadLetterQuery {
  limit: number;
  cursor?: string;
  includeClosed?: boolean;
}

export interface StoreStats {
  tasks: Record<TaskStatus, number>;
  readySteps: number;
  runningSteps: number;
  openDeadLetters: number;
}

/**
 * The storage seam. Every implementation (SQLite, PostgreSQL) passes the same contract suite
 * (`test/storage/contract.ts`). All writes are atomic; `updateTasks` runs the planner with the
 * task locked, so two workers finishing the two branches of a diamond cannot both miss the join.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** The ASAP state stores (snapshots, metering) in the same database; usable once migrated. */
  readonly state: StateStores;
  /** Applies pending migrations; safe to call from several processes at once. */
  migrate(): Promise<{ applied: string[] }>;
  close(): Promise<void>;
  /** Cheap liveness query for health checks. */
  ping(): Promise<void>;

  /**
   * Creates tasks in one transaction (all or none), in order. A draft whose idempotency key
   * matches an existing task (or an earlier draft of the batch) returns that task instead.
   */
  createTasks(drafts: readonly TaskDraft[]): Promise<CreateTaskResult[]>;
  /** Claims ready steps whose `run_at` has passed, oldest first, each with a lease. */
  claimSteps(request: ClaimRequest): Promise<ClaimResult>;
  /** Extends leases; returns those no longer held (step finished elsewhere, cancelled, expired). */
  renewLeases(workerId: string, leases: readonly LeaseRef[], leaseUntil: number): Promise<LeaseRef[]>;
  /** Running steps whose lease ended before `now`. */
  findExpiredLeases(now: number, limit: number): Promise<LeaseRef[]>;
  /** Earliest `run_at` among ready steps of these handlers, or null when none is waiting. */
  nextRunAt(handlers: readonly string[]): Promise<number | null>;
  /** Locks the tasks, plans each change, writes them all in one transaction. */
  updateTasks(taskIds: readonly string[], planner: TaskPlanner): Promise<EventRecord[]>;
  /**
   * Optional: calls `listener` whenever any process may have made steps runnable (PostgreSQL
   * LISTEN/NOTIFY); returns the unsubscribe function. Stores without it are only polled.
   */
  onWake?(listener: () => void): () => void;
  /** Events not tied to a task (circuit breaker changes). */
  appendEvents(events: readonly EventDraft[]): Promise<EventRecord[]>;

  getTask(id: string): Promise<TaskState | undefined>;
  listTasks(query: TaskQuery): Promise<Page<TaskRow>>;
  listEvents(query: EventQuery): Promise<EventRecord[]>;
  listDeadLetters(query: DeadLetterQuery): Promise<Page<DeadLetterRow>>;
  getDeadLetter(id: string): Promise<DeadLetterRow | undefined>;
  stats(): Promise<StoreStats>;
}
