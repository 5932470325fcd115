import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { createEmulator, type EmulatorOptions } from './index.ts';

// `npm run emulator`: the emulator as a standalone Keeper SCIM endpoint for local development.
// Settings come from EMULATOR_* variables, checked all at once so one run reports every problem.

// One helper builds every variable, in the style of the facade's src/config.ts (the emulator
// imports nothing from the facade): an empty or blank value counts as unset.
const emptyAsUnset = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema);

const integer = (name: string, min: number, max: number) =>
  emptyAsUnset(
    z.coerce
      .number({ error: `${name} must be a whole number between ${min} and ${max}` })
      .int(`${name} must be a whole number between ${min} and ${max}`)
      .min(min, `${name} must be between ${min} and ${max}`)
      .max(max, `${name} must be between ${min} and ${max}`)
      .optional(),
  );
/** One of `values`, in any case. */
const oneOf = <const T extends readonly [string, ...string[]]>(name: string, values: T) =>
  emptyAsUnset(
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
      z.enum(values, { error: `${name} must be one of: ${values.join(', ')}` }).optional(),
    ),
  );
const text = (check?: { pattern: RegExp; message: string }) =>
  emptyAsUnset(
    check ? z.string().regex(check.pattern, check.message).optional() : z.string().optional(),
  );

const EnvModel = z.object({
  EMULATOR_PORT: integer('EMULATOR_PORT', 0, 65_535),
  EMULATOR_HOST: text(),
  EMULATOR_NODE_ID: text({
    pattern: /^[1-9]\d{0,18}$/,
    message: 'EMULATOR_NODE_ID must be a Keeper node id: a decimal number such as 345074852429829',
  }),
  EMULATOR_TOKEN: text({ pattern: /^\S+$/, message: 'EMULATOR_TOKEN must not contain spaces' }),
  EMULATOR_SEATS: integer('EMULATOR_SEATS', 0, 10_000_000),
  EMULATOR_PROFILE: oneOf('EMULATOR_PROFILE', ['keeper', 'rfc', 'rfc-strict']),
  EMULATOR_SEED: oneOf('EMULATOR_SEED', ['demo', 'empty']),
  EMULATOR_ROLE_PREFIX: text(),
  EMULATOR_GROUP_MEMBERS: oneOf('EMULATOR_GROUP_MEMBERS', ['include', 'omit']),
  EMULATOR_LATENCY_MS: integer('EMULATOR_LATENCY_MS', 0, 600_000),
});

export type EnvResult =
  | { ok: true; options: EmulatorOptions & { host: string; port: number } }
  | { ok: false; problems: string[] };

/** Reads EMULATOR_* variables; never exits, so it can be tested. */
export function emulatorOptionsFromEnv(env: Record<string, string | undefined>): EnvResult {
  const parsed = EnvModel.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '');
        const got = env[name];
        return `${issue.message} (got ${JSON.stringify(got)})`;
      }),
    };
  }
  const e = parsed.data;
  const options: EmulatorOptions & { host: string; port: number } = {
    host: e.EMULATOR_HOST ?? '127.0.0.1',
    port: e.EMULATOR_PORT ?? 8787,
    seed: e.EMULATOR_SEED ?? 'demo',
  };
  if (e.EMULATOR_NODE_ID) options.nodeId = e.EMULATOR_NODE_ID;
  if (e.EMULATOR_TOKEN) options.token = e.EMULATOR_TOKEN;
  if (e.EMULATOR_SEATS !== undefined) options.seats = e.EMULATOR_SEATS;
  if (e.EMULATOR_PROFILE) options.profile = e.EMULATOR_PROFILE;
  if (e.EMULATOR_ROLE_PREFIX !== undefined) options.rolePrefix = e.EMULATOR_ROLE_PREFIX;
  if (e.EMULATOR_GROUP_MEMBERS) options.groupMembers = e.EMULATOR_GROUP_MEMBERS;
  if (e.EMULATOR_LATENCY_MS !== undefined) options.latencyMs = e.EMULATOR_LATENCY_MS;
  return { ok: true, options };
}

async function main(): Promise<void> {
  const result = emulatorOptionsFromEnv(process.env);
  if (!result.ok) {
    console.error('The emulator cannot start; fix these settings:');
    for (const problem of result.problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  const emulator = await createEmulator(result.options);
  const users = emulator.store.userCount;
  const groups = emulator.store.listGroups().length;
  console.log(`Keeper SCIM emulator (node ${emulator.nodeId}, ${users} users, ${groups} groups)`);
  console.log(`  base URL: ${emulator.baseUrl}`);
  console.log(`  token:    ${emulator.token}`);
  console.log('  try:');
  console.log(
    `    curl -H 'Authorization: Bearer ${emulator.token}' '${emulator.baseUrl}/Users?startIndex=1&count=2'`,
  );
  const shutdown = (signal: string) => {
    console.log(`${signal}: shutting down`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
