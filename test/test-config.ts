import { type Config, loadConfig } from '../src/config.ts';
import { createScimClient, type ScimClient, type ScimClientOptions } from '../src/scim/client.ts';
import { scimClientOptions, type UpstreamTarget } from '../src/service.ts';

// The one way tests get a configuration: `loadConfig`'s own defaults (as `npm start` has them
// outside production) with the test's environment on top, never an object written by hand.

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  // Tests read the upstream per request unless they ask for the directory mirror (MIRROR=on).
  return loadConfig({ NODE_ENV: 'test', MIRROR: 'off', ...env });
}

/**
 * A bare SCIM client on the configured settings (UPSTREAM_* defaults, or `env`), for tests of
 * the client itself; a test that needs another deadline passes it in `options`.
 */
export function testScimClient(
  upstream: UpstreamTarget,
  options: Partial<ScimClientOptions> = {},
  env: Record<string, string | undefined> = {},
): ScimClient {
  return createScimClient({ ...scimClientOptions(testConfig(env), upstream), ...options });
}
