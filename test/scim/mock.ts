import { MockAgent } from 'undici';
import type { ScimClientOptions, UpstreamCall } from '../../src/scim/client.ts';
import { testScimClient } from '../test-config.ts';

export const ORIGIN = 'https://keeper.test';
export const BASE_PATH = '/api/rest/scim/v2/1234567890123';
export const TOKEN = 'tok_Zx9sQ2bZ8wR1mN4pT6yAkX3v9sQ2bZ8wR1mN4pT6y';
export const SCIM_JSON = { 'content-type': 'application/scim+json' };

export const user = (id: string, extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id,
  userName: `u${id}@example.com`,
  active: true,
  ...extra,
});

/**
 * A client over an undici MockAgent, for transport edge cases a real server cannot produce.
 * Retries wait 0 ms through an injected sleep that records the delays.
 */
export function mockClient(options: Partial<ScimClientOptions> = {}) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get(ORIGIN);
  const calls: UpstreamCall[] = [];
  const delays: number[] = [];
  const client = testScimClient(
    { baseUrl: `${ORIGIN}${BASE_PATH}`, token: TOKEN },
    {
      dispatcher: agent,
      onCall: (call) => calls.push(call),
      retry: {
        minDelayMs: 1,
        maxDelayMs: 50,
        sleep: async (ms) => {
          delays.push(ms);
        },
      },
      ...options,
    },
  );
  const close = async () => {
    await client.close();
    await agent.close();
  };
  return { agent, pool, client, calls, delays, close };
}
