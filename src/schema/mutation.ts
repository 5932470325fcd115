import { z } from 'zod';
import type { Context } from '../context.ts';
import type { NodeTypename } from '../directory/outcomes.ts';
import { invalidInput } from './errors.ts';

// The input rules of user-, team- and role-mutations.ts: the ones that need no upstream (zod, run
// by the validation plugin before the resolver), and the ones that depend on the node's role
// prefix (zod too, but run in the resolver since the prefix is runtime state).

// ---- input rules --------------------------------------------------------------------------------

/** Keeper's userName must be an e-mail address (docs/keeper-scim.md §2.1). */
export const email = z.email({ error: 'must be an e-mail address' }).max(254);

export const nonEmpty = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(256, { error: 'must have at most 256 characters' });

/** A decoded global id of the given type; a Team id where a User id belongs is invalid input. */
export const idOf = (typename: NodeTypename) =>
  z.custom<{ typename: string; id: string }>().refine((v) => v.typename === typename, {
    error: `must be the id of a ${typename}`,
  });

export const idsOf = (typename: NodeTypename, max = 1000) =>
  z.array(idOf(typename)).max(max, { error: `at most ${max} ids in one call` });

/** The team name rule: the role prefix would make Keeper create a role (docs/keeper-scim.md §7). */
export function checkTeamName(ctx: Context, name: string, path: (string | number)[]): void {
  const prefix = ctx.upstream.rolePrefix;
  const result = z
    .string()
    .refine((n) => prefix === '' || !n.startsWith(prefix), {
      error: `must not start with the role prefix "${prefix}": Keeper would create a role; use createRole`,
    })
    .safeParse(name);
  if (!result.success) throw invalidInput(...issuesAt(result.error, path));
}

/** Role names are given without the prefix; the facade adds it. */
export function checkRoleName(ctx: Context, name: string, path: (string | number)[]): void {
  const prefix = ctx.upstream.rolePrefix;
  const result = z
    .string()
    .refine((n) => prefix === '' || !n.startsWith(prefix), {
      error: `give the role name without the role prefix "${prefix}"; it is added for you`,
    })
    .safeParse(name);
  if (!result.success) throw invalidInput(...issuesAt(result.error, path));
}

function issuesAt(error: z.ZodError, path: (string | number)[]) {
  return error.issues.map((i) => ({
    path: [...path, ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))],
    message: i.message,
  }));
}

/** Decoded ids, deduplicated in order (SCIM would treat duplicates as one anyway). */
export const keeperIds = (ids: readonly { id: string }[] | null | undefined): string[] => [
  ...new Set((ids ?? []).map((g) => g.id)),
];

/**
 * The zod rules of a whole input type. Whole-type rather than per-field: the validation plugin
 * stops at the first failing field, while one object schema reports every invalid field at once.
 * Loose, so fields without rules pass through unchanged.
 */
export const inputRulesOf = <S extends z.ZodRawShape>(shape: S) =>
  z.looseObject({
    ...shape,
    clientMutationId: z
      .string()
      .min(1, { error: 'must not be empty' })
      .max(255, { error: 'must have at most 255 characters' })
      .nullish(),
  });
