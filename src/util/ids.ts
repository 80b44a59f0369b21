import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_CHARS = 16;

let lastTime = -1;
let lastTimeText = '';
const lastRandom = new Uint8Array(RANDOM_CHARS);

/**
 * A ULID: 26 Crockford base32 characters, 48 bits of millisecond time then 80 random bits.
 * Monotonic within one process: ids made in the same millisecond increment the random part, so
 * ids sort in creation order (task ids double as pagination cursors).
 */
export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    incrementRandom(lastRandom);
  } else {
    lastTime = now;
    lastTimeText = encodeTime(now);
    freshRandom(lastRandom);
  }
  let text = lastTimeText;
  for (let i = 0; i < RANDOM_CHARS; i++) text += CROCKFORD[lastRandom[i] as number];
  return text;
}

function encodeTime(time: number): string {
  let out = '';
  let rest = time;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

// Random bytes are drawn from the OS a pool at a time: one call per id costs more than the id.
const pool = new Uint8Array(4096);
let poolUsed = pool.length;

function freshRandom(digits: Uint8Array): void {
  if (poolUsed + digits.length > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  for (let i = 0; i < digits.length; i++) digits[i] = (pool[poolUsed + i] as number) & 31;
  poolUsed += digits.length;
}

function incrementRandom(digits: Uint8Array): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    const digit = digits[i] as number;
    if (digit < 31) {
      digits[i] = digit + 1;
      return;
    }
    digits[i] = 0;
  }
}

/** Baton task ids follow the ASAP convention `task_<ULID>`. */
export function newTaskId(now?: number): string {
  return `task_${ulid(now)}`;
}
