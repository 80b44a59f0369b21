/** Option parsers shared by the operator commands; a bad value is a usage error (exit code 2). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { ValidationError } from '../util/errors.ts';

/** `--limit <n>`: a page size from 1 to 500 (the engine's largest page). */
export function parseLimit(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 500) {
    throw new InvalidArgumentError('expected a whole number from 1 to 500.');
  }
  return value;
}

/** `--timeout <seconds>`: a positive number of seconds, returned in milliseconds. */
export function parseSeconds(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 86_400) {
    throw new InvalidArgumentError('expected seconds, a number above 0 and at most 86400 (e.g. 30 or 2.5).');
  }
  return Math.round(value * 1000);
}

/** Reads a file named on the command line, relative to `cwd`; one that cannot be read is a usage error. */
export async function readArgumentFile(cwd: string, path: string, what: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, path), 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ValidationError(`cannot read ${what} ${path}: ${reason}`);
  }
}
