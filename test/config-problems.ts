import { ConfigError, loadConfig } from '../src/config.ts';

/** The problems `loadConfig` reports for an environment (none: an empty list). */
export function problems(env: Record<string, string>, readFile?: (p: string) => string): string[] {
  try {
    loadConfig(env, readFile);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
