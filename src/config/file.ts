import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { ConfigIssue } from './errors.ts';

/** The config file names looked for in the working directory when none is named. */
const CONFIG_FILE_NAMES = ['baton.config.json', 'baton.config.yaml', 'baton.config.yml'] as const;

/** A config file that was read and parsed. */
export interface ConfigFile {
  readonly path: string;
  /** The name to show the user: as they wrote it, or the file name found. */
  readonly label: string;
  readonly values: Readonly<Record<string, unknown>>;
}

interface FileResult {
  readonly file?: ConfigFile;
  readonly issues: readonly ConfigIssue[];
}

/**
 * Reads the named config file (relative to `cwd`), or the one found in `cwd` when none is named.
 * A named file must exist; finding no file is fine; finding several is ambiguous and an error.
 */
export function readConfigFile(named: string | undefined, cwd: string): FileResult {
  if (named !== undefined) return readNamedFile(resolve(cwd, named), named);
  const found = CONFIG_FILE_NAMES.filter((name) => existsSync(resolve(cwd, name)));
  const [only] = found;
  if (only === undefined) return { issues: [] };
  if (found.length > 1) {
    const where = found.join(', ');
    const message = `${where}: several config files in ${cwd}; keep one, or choose with --config or BATON_CONFIG`;
    return { issues: [{ where, message }] };
  }
  return readNamedFile(resolve(cwd, only), only);
}

function readNamedFile(path: string, label: string): FileResult {
  const fail = (problem: string): FileResult => ({
    issues: [{ where: label, message: `${label}: ${problem}` }],
  });
  if (!existsSync(path)) return fail(`config file not found (looked for ${path})`);
  let parsed: unknown;
  try {
    parsed = parseText(readFileSync(path, 'utf8'), path);
  } catch (error) {
    return fail(`cannot read config file: ${(error as Error).message}`);
  }
  // An empty YAML file parses to null: a file with nothing set yet.
  if (parsed === null) return { file: { path, label, values: {} }, issues: [] };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return fail('expected the config file to hold a mapping of keys to values');
  }
  return { file: { path, label, values: parsed as Record<string, unknown> }, issues: [] };
}

function parseText(text: string, path: string): unknown {
  switch (extname(path).toLowerCase()) {
    case '.json':
      return parseJson(text);
    case '.yaml':
    case '.yml':
      return parseYamlText(text);
    default:
      throw new Error('expected a .json, .yaml or .yml file');
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around an unexpected token, which may be a secret: keep only the reason.
    throw new Error(`invalid JSON: ${(error as Error).message.replace(/, ".*" is not valid JSON$/s, '')}`, {
      cause: error,
    });
  }
}

function parseYamlText(text: string): unknown {
  try {
    // prettyErrors would quote the offending line, which may hold a secret; the position is enough.
    return parseYaml(text, { prettyErrors: false });
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    const line = text.slice(0, error.pos[0]).split('\n').length;
    throw new Error(`invalid YAML at line ${line}: ${error.message}`, { cause: error });
  }
}
