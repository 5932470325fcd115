import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

// SSO callers: JWTs verified against a JWKS served on loopback, with keys made here. Scopes come
// from the configured claim; anything that does not verify is a 401 before any upstream call.

const ISSUER = 'https://login.acme.test/';
const AUDIENCE = 'keeper-scim-graphql';

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;

describe('SSO tokens (JWT_JWKS_URL)', () => {
  let jwks: Server;
  let stack: Stack;
  let signing: Keys;
  let stranger: Keys;
  let fetches = 0;

  beforeAll(async () => {
    signing = await generateKeyPair('RS256');
    stranger = await generateKeyPair('RS256');
    const jwk: JWK = { ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'RS256' };
    jwks = createServer((_req, res) => {
      fetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    stack = await startStack({
      env: {
        JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        JWT_SCOPES_CLAIM: 'scp',
      },
    });
  });
  afterAll(async () => {
    await stack.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  const token = (
    claims: Record<string, unknown>,
    options: { key?: Keys; audience?: string; expires?: string } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject('svc-onboarding')
      .setIssuedAt()
      .setExpirationTime(options.expires ?? '5m')
      .sign((options.key ?? signing).privateKey);

  const send = async (bearer: string, query: string, variables: object = {}) => {
    const response = await stack.app.fetch('http://facade.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ query, variables }),
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: unknown;
        errors?: { message: string; extensions?: { code?: string } }[];
      },
    };
  };

  it('serves a verified token with the scopes of its claim, and refuses the others', async () => {
    const bearer = await token({ scp: ['directory:read', 'not-a-scope'] });
    const read = await send(bearer, '{ users(first: 1) { totalCount } }');
    expect(read).toEqual({ status: 200, body: { data: { users: { totalCount: 520 } } } });

    stack.resetLog();
    const user = stack.emulator.store.listUsers()[0];
    const lock = await send(
      bearer,
      'mutation($input: LockUserInput!) { lockUser(input: $input) { __typename } }',
      { input: { id: encodeGlobalID('User', user?.id as string) } },
    );
    expect(lock.body.errors).toEqual([
      {
        message:
          'Mutation.lockUser needs the `users:lifecycle` scope, which this token does not have.',
        extensions: { code: 'FORBIDDEN', missingScopes: ['users:lifecycle'] },
      },
    ]);
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('answers 401 to a token of another key, audience, or one expired, with no upstream call', async () => {
    stack.resetLog();
    const bad = [
      await token({ scp: ['directory:read'] }, { key: stranger }),
      await token({ scp: ['directory:read'] }, { audience: 'another-service' }),
      await token({ scp: ['directory:read'] }, { expires: '-1m' }),
      'not.a.jwt',
    ];
    for (const bearer of bad) {
      const answer = await send(bearer, '{ users(first: 1) { totalCount } }');
      expect(answer.status).toBe(401);
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('fetches the JWKS once for many tokens (jose caches it)', async () => {
    const before = fetches;
    for (let i = 0; i < 5; i++) {
      const answer = await send(
        await token({ scp: ['directory:read'] }),
        '{ upstream { emulated } }',
      );
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect(fetches - before).toBeLessThanOrEqual(1);
  });
});
