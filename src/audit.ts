import type { Caller } from './caller-auth.ts';

// The audit trail: one event per mutation and per refused attempt (FORBIDDEN), with who, what,
// which SCIM requests it made and how it ended. Events go to a sink (the structured log, which a
// SIEM reads) and to a store that admins query (`auditEvents`). The store here is a bounded ring
// in memory; the interface is small so that a shared one (e.g. a Redis Stream) can replace it.

export type AuditEvent = {
  /** Increasing per store; the cursor of `auditEvents`. */
  id: string;
  time: string;
  caller: { kind: Caller['kind']; name: string };
  requestId: string;
  /** The root field: `lockUser`, `createTeam`, … */
  operation: string;
  /** Input fields on the allow-list, as sent; `omitted` names the others. */
  input: Record<string, unknown>;
  omitted: string[];
  /** The SCIM requests the operation made, in order, with their statuses (0 = no answer). */
  upstream: { method: string; route: string; status: number }[];
  /** The result's typename (`LockUserPayload`, `NotFoundError`) or the error code (`FORBIDDEN`). */
  outcome: string;
  /** Global ids of the objects the input named and the payload returned. */
  objectIds: string[];
  idempotencyKey: string | null;
};

export type AuditFilter = {
  caller?: string | null | undefined;
  operation?: string | null | undefined;
  objectId?: string | null | undefined;
  since?: Date | null | undefined;
};

export interface AuditStore {
  append(event: Omit<AuditEvent, 'id'>): Promise<AuditEvent>;
  /** Newest first; `after` is an event id from an earlier page. */
  list(options: {
    first: number;
    after?: string | null | undefined;
    filter: AuditFilter;
  }): Promise<{ events: AuditEvent[]; hasNextPage: boolean }>;
}

export const matches = (event: AuditEvent, filter: AuditFilter) =>
  (!filter.caller || event.caller.name === filter.caller) &&
  (!filter.operation || event.operation === filter.operation) &&
  (!filter.objectId || event.objectIds.includes(filter.objectId)) &&
  (!filter.since || Date.parse(event.time) >= filter.since.getTime());

/** The newest `capacity` events of this process (AUDIT_CAPACITY). */
export function createMemoryAuditStore(options: { capacity: number }): AuditStore {
  const events: AuditEvent[] = [];
  let next = 1;
  return {
    async append(event) {
      const stored = { id: String(next++), ...event };
      events.push(stored);
      if (events.length > options.capacity) events.splice(0, events.length - options.capacity);
      return stored;
    },
    async list({ first, after, filter }) {
      const before = after ? Number(after) : Number.POSITIVE_INFINITY;
      const found: AuditEvent[] = [];
      for (let i = events.length - 1; i >= 0 && found.length <= first; i--) {
        const event = events[i] as AuditEvent;
        if (Number(event.id) < before && matches(event, filter)) found.push(event);
      }
      return { events: found.slice(0, first), hasNextPage: found.length > first };
    },
  };
}

/** Input fields recorded as sent; anything else (a future password field) is only named. */
const RECORDED_INPUT = new Set([
  'id',
  'userName',
  'displayName',
  'givenName',
  'familyName',
  'externalId',
  'active',
  'name',
  'teamId',
  'roleId',
  'userIds',
  'teamIds',
  'roleIds',
  'clientMutationId',
]);

export function filterInput(input: unknown): { input: Record<string, unknown>; omitted: string[] } {
  const recorded: Record<string, unknown> = {};
  const omitted: string[] = [];
  if (input && typeof input === 'object') {
    for (const [key, value] of Object.entries(input)) {
      if (RECORDED_INPUT.has(key)) recorded[key] = value;
      else omitted.push(key);
    }
  }
  return { input: recorded, omitted };
}

/** Where a request's events go: the store, and the sink (the log). */
export type Audit = {
  store: AuditStore;
  sink: (event: AuditEvent) => void;
};
