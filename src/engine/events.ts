import type { Logger } from 'pino';
import type { EventType } from '../storage/records.ts';
import type { BatonEvent } from './views.ts';

export type EventListener = (event: BatonEvent) => void;

/**
 * In-process delivery of committed events. A listener that throws is logged and never breaks the
 * engine or the other listeners (SPEC §2.8); listeners run after the change is durable.
 */
export class EventBus {
  readonly #listeners = new Map<EventType | '*', Set<EventListener>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Subscribes to one event type, or `*` for all; returns the unsubscribe function. */
  on(type: EventType | '*', listener: EventListener): () => void {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  get hasListeners(): boolean {
    for (const set of this.#listeners.values()) if (set.size > 0) return true;
    return false;
  }

  /** Whether anyone listens to `type`: events nobody listens to are not even turned into views. */
  wants(type: EventType): boolean {
    return (this.#listeners.get(type)?.size ?? 0) > 0 || (this.#listeners.get('*')?.size ?? 0) > 0;
  }

  emit(event: BatonEvent): void {
    this.#deliver(this.#listeners.get(event.type), event);
    this.#deliver(this.#listeners.get('*'), event);
  }

  #deliver(listeners: Set<EventListener> | undefined, event: BatonEvent): void {
    if (!listeners) return;
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.error(
          { err: error, event_type: event.type, task_id: event.task_id },
          'engine.event.listener_failed',
        );
      }
    }
  }
}
