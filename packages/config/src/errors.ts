/** Thrown by `parseConfig` (and the checks built on it); its message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * A check across several variables, which a single field cannot express
 * (one value must exceed another). `parseConfig` applies every rule whose
 * variables the shape declares, so a service gets it by spreading the shape.
 */
export interface ConfigRule {
  /** The variables the rule reads; it applies only to shapes declaring all of them. */
  readonly variables: readonly string[];
  /** `undefined` when the parsed values agree, else the problem as `NAME: why`. */
  check(values: Readonly<Record<string, unknown>>): string | undefined;
}
