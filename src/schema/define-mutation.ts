import type { FieldMap, InputFieldMap, InputShapeFromFields } from '@pothos/core';
import type { z } from 'zod';
import type { Scope } from '../config.ts';
import type { Context } from '../context.ts';
import type { PayloadBase, RunInfo } from '../directory/writes/run.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';
import { COMMON_ERRORS, invalidInput } from './errors.ts';
import { inputRulesOf } from './mutation.ts';

// One mutation, declared once: `defineMutation` makes its input type (with `clientMutationId`),
// its payload type (with `clientMutationId` and `replayed`), its result union (the payload, the
// errors every mutation can answer and its own), and a resolver that checks the input, takes the
// idempotency key and runs the write once per key in the directory (src/directory/writes/run.ts).

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
export type InputFieldBuilder = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;
export type PayloadFieldBuilder<P> = PothosSchemaTypes.ObjectFieldBuilder<Types, P & PayloadBase>;
// biome-ignore lint/suspicious/noExplicitAny: error classes take any constructor arguments
type ErrorClass = new (...args: any[]) => Error;

type Input<Fields extends InputFieldMap> = InputShapeFromFields<Fields> & {
  clientMutationId?: string | null;
};

export type MutationSpec<Fields extends InputFieldMap, P extends object> = {
  /** The mutation field; its types are named after it (`createTeam` → `CreateTeamInput`, …). */
  name: string;
  scope: Scope;
  description: string;
  input: {
    description: string;
    /** The description of the `input` argument. */
    argument: string;
    fields: (t: InputFieldBuilder) => Fields;
  };
  /** zod rules of input fields, checked together before the resolver (InvalidInputError). */
  rules: z.ZodRawShape;
  /** Rules that need the request (the role prefix), checked before anything is written. */
  check?: (input: InputShapeFromFields<Fields>, ctx: Context) => void;
  /** The payload's own fields; its type `P` is the one `fields` is declared for. */
  payload: { description: string; fields: (t: PayloadFieldBuilder<P>) => FieldMap };
  /** The errors of this mutation, beside the ones every mutation can answer. */
  errors: readonly ErrorClass[];
  /** The description of the result union. */
  result: string;
  /** The write: one call into the directory. */
  run: (input: InputShapeFromFields<Fields>, ctx: Context, run: RunInfo) => Promise<NoInfer<P>>;
};

export function defineMutation<Fields extends InputFieldMap, P extends object>(
  spec: MutationSpec<Fields, P>,
): void {
  const Name = `${spec.name[0]?.toUpperCase()}${spec.name.slice(1)}`;
  const Input = builder.inputType(`${Name}Input`, {
    description: spec.input.description,
    fields: (t) => ({ ...spec.input.fields(t), clientMutationId: clientMutationIdField(t) }),
    validate: inputRulesOf(spec.rules),
  });
  const Payload = builder.objectRef<P & PayloadBase>(`${Name}Payload`).implement({
    description: spec.payload.description,
    fields: (t) => ({ ...spec.payload.fields(t), ...payloadBaseFields(t) }),
  });
  builder.mutationField(spec.name, (t) =>
    t.field({
      type: Payload,
      ...requires(spec.scope),
      description: spec.description,
      errors: {
        types: [...COMMON_ERRORS, ...spec.errors],
        directResult: true,
        union: { name: `${Name}Result`, description: spec.result },
      },
      args: {
        input: t.arg({ type: Input, required: true, description: spec.input.argument }),
      },
      // The input's type is only known as `Fields`: Pothos cannot follow it through the spread.
      resolve: ((_root: unknown, { input }: { input: Input<Fields> }, ctx: Context) => {
        spec.check?.(input, ctx);
        return runMutation(ctx, spec.name, input, (run) => spec.run(input, ctx, run));
      }) as never,
    }),
  );
}

/** A required input field holding the global id of the `noun` (`user`, `team`, `role`). */
export const idField = (noun: string) => (t: InputFieldBuilder) =>
  t.globalID({ required: true, description: `The global id of the ${noun}.` });

/** A payload field holding a written object: `user`, `team` or `role`. */
export const objectField =
  <K extends string, T>(key: K, type: PothosSchemaTypes.ObjectRef<Types, T>, description: string) =>
  (t: PayloadFieldBuilder<Record<K, T>>): FieldMap => ({
    [key]: t.field({ type, description, resolve: (p) => p[key] as never }),
  });

// ---- fields every input and payload has -------------------------------------------------------

const clientMutationIdField = (t: InputFieldBuilder) =>
  t.string({
    required: false,
    description:
      'An idempotency key (like the `Idempotency-Key` header): repeating this mutation with the same key and input within IDEMPOTENCY_TTL_SECONDS (24 h) returns the first result without writing again; the same key with another input answers IdempotencyKeyReusedError. Echoed in the payload.',
  });

/** The fields every payload has beside its object: the echoed key and whether it was replayed. */
const payloadBaseFields = <P extends PayloadBase>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, P>,
) => ({
  clientMutationId: t.string({
    nullable: true,
    description: 'The `clientMutationId` of the input, when one was given.',
    resolve: (p) => p.clientMutationId,
  }),
  replayed: t.boolean({
    description:
      'True when this is the stored result of an earlier call with the same idempotency key: nothing was written this time.',
    resolve: (p) => p.replayed,
  }),
});

// ---- the idempotency key ----------------------------------------------------------------------

const IDEMPOTENCY_HEADER = 'idempotency-key';

const MAX_KEY_LENGTH = 255;
const KEY_PATTERN = new RegExp(`^[\\x21-\\x7e]{1,${MAX_KEY_LENGTH}}$`);

/**
 * The idempotency key of a call: `input.clientMutationId`, else the `Idempotency-Key` header; both
 * given and different, or a key of the wrong shape, is invalid input (README "Idempotency").
 */
function idempotencyKey(ctx: Context, given: string | null | undefined): string | undefined {
  const header = ctx.request.headers.get(IDEMPOTENCY_HEADER) ?? undefined;
  if (given != null && header !== undefined && given !== header) {
    throw invalidInput({
      path: ['input', 'clientMutationId'],
      message: 'differs from the Idempotency-Key header; send one key, or the same in both',
    });
  }
  const key = given ?? header;
  if (key !== undefined && !KEY_PATTERN.test(key)) {
    throw invalidInput({
      path: ['input', 'clientMutationId'],
      message: `an idempotency key must have 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces`,
    });
  }
  return key;
}

/** Runs a write once per idempotency key (src/directory/writes/run.ts). */
async function runMutation<T extends object>(
  ctx: Context,
  mutation: string,
  input: { clientMutationId?: string | null | undefined },
  execute: (run: RunInfo) => Promise<T>,
): Promise<T & PayloadBase> {
  const key = idempotencyKey(ctx, input.clientMutationId);
  return ctx.directory.run(mutation, key, input, execute);
}
