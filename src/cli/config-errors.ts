/**
 * Configuration errors as the CLI prints them. A `ConfigError` names the flag (`--listen`); when
 * the value came from the flag's `ORCHARD_*` variable rather than the command line, the message
 * names the variable instead, since that is what the user has to fix.
 */
import { envName, type RawValues } from '../daemon/index.js';
import { ConfigError } from '../index.js';

const camel = (flag: string): string =>
  flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * `error` itself when its flag was given on the command line (or by neither), else a ConfigError
 * naming the `ORCHARD_*` variable the bad value came from, with the same detail and `error` as
 * its cause.
 */
export function attributeConfigError(
  error: ConfigError,
  values: RawValues,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ConfigError {
  if (!error.flag.startsWith('--')) return error;
  const name = error.flag.slice(2);
  if (values[camel(name)] !== undefined || values[name] !== undefined) return error;
  const variable = envName(name);
  if (env[variable] === undefined) return error;
  const prefix = `${error.flag}: `;
  const detail = error.message.startsWith(prefix)
    ? error.message.slice(prefix.length)
    : error.message;
  return new ConfigError(variable, detail, { cause: error });
}
