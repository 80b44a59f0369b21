import { Option } from 'commander';
import type { Command } from 'commander';
import { CONFIG_KEY_NAMES, CONFIG_KEYS } from '../config/index.ts';
import type { LoadConfigOptions } from '../config/index.ts';

// The config keys that have a CLI flag; CONFIG_KEYS decides which, so flags cannot drift.
const FLAGS = CONFIG_KEY_NAMES.flatMap((key) => {
  const spec = CONFIG_KEYS[key];
  return 'flag' in spec ? [{ key, flag: spec.flag }] : [];
});

/** Adds the options every command accepts: `--config <file>` and one flag per flagged config key. */
export function addGlobalOptions(program: Command): void {
  program.option(
    '--config <file>',
    'Config file to read instead of baton.config.{json,yaml,yml} [env BATON_CONFIG]',
  );
  for (const { key, flag } of FLAGS) {
    program.addOption(new Option(flag, `${CONFIG_KEYS[key].meaning} [env ${CONFIG_KEYS[key].env}]`));
  }
}

/**
 * The config file and flag values given to `command` or the program, ready for resolveConfig.
 * Values stay text: the config layer parses and validates them and names the flag in errors.
 */
export function configOptionsOf(command: Command): Pick<LoadConfigOptions, 'file' | 'flags'> {
  const options = command.optsWithGlobals<Record<string, unknown>>();
  const flags = Object.fromEntries(
    FLAGS.map(({ key, flag }) => [key, options[new Option(flag).attributeName()]]),
  );
  return { file: typeof options.config === 'string' ? options.config : undefined, flags };
}
