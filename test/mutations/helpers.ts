import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Stack } from '../helpers.ts';

// Small helpers over the emulator's state for the mutation tests: global ids of seeded objects,
// and the request log as "METHOD /path" lines (query strings kept: they show the look-ups).

export const userGid = (keeperId: string) => encodeGlobalID('User', keeperId);
export const teamGid = (keeperId: string) => encodeGlobalID('Team', keeperId);
export const roleGid = (keeperId: string) => encodeGlobalID('Role', keeperId);

export function seededUser(stack: Stack, userName: string) {
  const user = stack.emulator.store.findUserByUserName(userName);
  if (!user) throw new Error(`no seeded user ${userName}`);
  return user;
}

export function seededGroup(stack: Stack, displayName: string) {
  const group = stack.emulator.store.listGroups().find((g) => g.displayName === displayName);
  if (!group) throw new Error(`no seeded group ${displayName}`);
  return group;
}

/** The n-th seeded user (stable: the demo seed is deterministic). */
export function nthUser(stack: Stack, n: number) {
  const user = stack.emulator.store.listUsers()[n];
  if (!user) throw new Error(`no user #${n}`);
  return user;
}

/** Upstream requests since the last reset, as `METHOD /path?query` with the query decoded. */
export const calls = (stack: Stack) =>
  stack.upstreamCalls().map((c) => `${c.method} ${decodeURIComponent(c.path)} ${c.status}`);

/** Upstream writes since the last reset. */
export const writes = (stack: Stack) =>
  stack
    .upstreamCalls()
    .filter((c) => c.method !== 'GET')
    .map((c) => `${c.method} ${c.path}`);
