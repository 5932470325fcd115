import { pathToFileURL } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import {
  OnboardingRoleDocument,
  OnboardingTeamDocument,
  OnboardUserDocument,
  type OnboardUserMutation,
} from '../test/generated/graphql.ts';

// How a backend service onboards a person through the facade, with the typed documents that
// `npm run codegen` generates from examples/onboard-user.graphql:
//   1. find the teams and roles by name;
//   2. invite the user into them with one createUser, keyed by the person's HR id, so that
//      repeating the call after a timeout or an unknown outcome can never invite them twice;
//   3. branch on the typed result (`__typename`), never on messages.
//
// Run it against a running facade (`npm start` serves the demo data):
//   npx tsx examples/onboard-user.ts [http://localhost:4000/graphql]

export type Person = {
  /** The HR system's id: the idempotency key and the user's externalId. */
  hrId: string;
  email: string;
  displayName: string;
  givenName?: string;
  familyName?: string;
  teams: string[];
  roles: string[];
};

type Created = Extract<OnboardUserMutation['createUser'], { __typename: 'CreateUserPayload' }>;

export type Onboarded =
  | { status: 'created'; user: Created['user']; replayed: boolean }
  | { status: 'already-exists'; email: string }
  | { status: 'rejected'; reason: string }
  | { status: 'gave-up'; reason: string };

export type OnboardOptions = {
  /** The facade's GraphQL endpoint. */
  endpoint: string;
  /** @default globalThis.fetch */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Attempts of the createUser call when the outcome is not final. @default 4 */
  attempts?: number;
  /** Wait before a repeat, doubled each time. @default 1000 */
  retryDelayMs?: number;
};

type GraphQLAnswer<R> = {
  data?: R | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};

/** Top-level error codes worth repeating (with the same idempotency key). */
const TRANSIENT = new Set(['UPSTREAM_UNAVAILABLE', 'RATE_LIMITED']);

export async function onboardUser(person: Person, options: OnboardOptions): Promise<Onboarded> {
  const send = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const attempts = options.attempts ?? 4;
  const delay = options.retryDelayMs ?? 1000;

  async function request<R, V>(
    document: TypedDocumentNode<R, V>,
    variables: V,
  ): Promise<GraphQLAnswer<R>> {
    const response = await send(options.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: print(document), variables }),
    });
    return (await response.json()) as GraphQLAnswer<R>;
  }

  // 1. Names to ids (reads; safe to repeat).
  const teams = await Promise.all(
    person.teams.map(async (name) => (await request(OnboardingTeamDocument, { name })).data?.team),
  );
  const roles = await Promise.all(
    person.roles.map(async (name) => (await request(OnboardingRoleDocument, { name })).data?.role),
  );
  const missing = [
    ...person.teams.filter((_, i) => !teams[i]).map((n) => `team "${n}"`),
    ...person.roles.filter((_, i) => !roles[i]).map((n) => `role "${n}"`),
  ];
  if (missing.length > 0) return { status: 'rejected', reason: `no ${missing.join(', ')}` };

  // 2. One invitation, under one key however often it is sent.
  const input = {
    userName: person.email,
    displayName: person.displayName,
    givenName: person.givenName,
    familyName: person.familyName,
    externalId: person.hrId,
    teamIds: teams.map((t) => t?.id ?? ''),
    roleIds: roles.map((r) => r?.id ?? ''),
    clientMutationId: `onboard:${person.hrId}`,
  };
  let reason = 'no attempt made';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, delay * 2 ** (attempt - 2)));
    let answer: GraphQLAnswer<OnboardUserMutation>;
    try {
      answer = await request(OnboardUserDocument, { input });
    } catch (error) {
      // The facade did not answer: the same key makes the repeat safe.
      reason = `facade unreachable: ${(error as Error).message}`;
      continue;
    }
    const code = answer.errors?.[0]?.extensions?.code;
    if (code !== undefined) {
      if (TRANSIENT.has(code)) {
        reason = code;
        continue;
      }
      return { status: 'rejected', reason: code };
    }
    const result = answer.data?.createUser;
    if (!result) return { status: 'rejected', reason: 'empty answer' };
    // 3. Every outcome is a type.
    switch (result.__typename) {
      case 'CreateUserPayload':
        return { status: 'created', user: result.user, replayed: result.replayed };
      case 'EmailAlreadyInUseError':
        return { status: 'already-exists', email: result.email };
      case 'OutcomeUnknownError':
        // The repeat (same key) looks the user up before creating anything.
        reason = `outcome unknown; look up ${result.lookup}`;
        continue;
      case 'InvalidInputError':
        return {
          status: 'rejected',
          reason: result.fields.map((f) => `${f.path}: ${f.message}`).join('; '),
        };
      case 'NotFoundError':
        return { status: 'rejected', reason: `${result.typename} ${result.id} not found` };
      default:
        // SeatLimitReachedError, IdempotencyKeyReusedError, BaseError: final, with a message.
        return { status: 'rejected', reason: `${result.__typename}: ${result.message}` };
    }
  }
  return { status: 'gave-up', reason };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const endpoint = process.argv[2] ?? 'http://localhost:4000/graphql';
  const result = await onboardUser(
    {
      hrId: 'HR-000042',
      email: 'grace.hopper@acme.example',
      displayName: 'Grace Hopper',
      givenName: 'Grace',
      familyName: 'Hopper',
      teams: ['Engineering', 'Security'],
      roles: ['Auditors'],
    },
    { endpoint },
  );
  console.log(JSON.stringify(result, null, 2));
  if (result.status === 'rejected' || result.status === 'gave-up') process.exitCode = 1;
}
