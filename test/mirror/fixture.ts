import { afterEach } from 'vitest';
import {
  createMirror,
  type Mirror,
  type MirrorOptions,
} from '../../src/directory/mirror/mirror.ts';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import type { ScimClient } from '../../src/scim/client.ts';
import { testScimClient } from '../test-config.ts';

// A real emulator over loopback, a SCIM client to it, and mirrors over that client; everything
// started here is stopped after each test. Upstream calls are counted from the emulator's
// request log (what reached the upstream), by method and route.

export type MirrorFixture = {
  emulator: Emulator;
  scim: ScimClient;
  mirror(options?: Partial<MirrorOptions>): Mirror;
  /** Requests the upstream received since the last reset, as `METHOD /Route`. */
  calls(): string[];
  resetCalls(): void;
};

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export async function startMirrorFixture(options: EmulatorOptions = {}): Promise<MirrorFixture> {
  const emulator = await createEmulator({ seed: 'demo', ...options });
  const scim = testScimClient(emulator, { retry: { maxRetries: 1, minDelayMs: 1, maxDelayMs: 5 } });
  cleanups.push(async () => {
    await scim.close();
    await emulator.close().catch(() => {});
  });
  emulator.log.clear();
  return {
    emulator,
    scim,
    mirror(opts = {}) {
      const mirror = createMirror({ scim, rolePrefix: 'ROLE_', ...opts });
      cleanups.push(() => mirror.close());
      return mirror;
    },
    calls: () =>
      emulator.log.entries.map(
        (e) => `${e.method} ${e.path.replace(/^\/api\/rest\/scim\/v2\/\d+/, '').split('?')[0]}`,
      ),
    resetCalls: () => emulator.log.clear(),
  };
}

/** A clock the test moves by hand (ms since the epoch). */
export function manualClock(start = Date.UTC(2026, 11, 1, 12)) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}
