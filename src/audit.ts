import type { Caller } from './caller-auth.ts';

// The audit trail: one event per mutation and per refused attempt (FORBIDDEN), with who, what,
// which SCIM requests it made and how it ended. Events go to a sink (the structured log, which a
// SIEM reads) and to a store that admins query (`auditEvents`). The store here is a bounded ring
// in memory; the interface is small so that a shared one (e.g. a Redis Stream) can replace it.

export type AuditEvent = {
  /** Increasing per store; the cursor of `auditEvents`. */
  id: string;
  time: string;
  /** `unauthenticated`: a request refused with 401 (no valid key or token; none recorded). */
  caller: { kind: Caller['kind'] | 'unauthenticated'; name: string };
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

/** Options shared by the audit stores: AUDIT_CAPACITY, AUDIT_RETENTION (seconds), a clock. */
export type AuditStoreOptions = {
  capacity: number;
  /** Events older than this (by their `time`) are dropped; undefined = kept until `capacity`. */
  retentionSeconds?: number | undefined;
  now?: () => number;
};

/** The epoch ms before which events are expired, or -Infinity without a retention. */
export function retentionCutoff(options: AuditStoreOptions): number {
  if (options.retentionSeconds === undefined) return Number.NEGATIVE_INFINITY;
  return (options.now ?? Date.now)() - options.retentionSeconds * 1000;
}

/** Whether an event is still within the retention (an unparseable time is kept). */
export function retained(event: { time: string }, cutoff: number): boolean {
  const time = Date.parse(event.time);
  return Number.isNaN(time) || time >= cutoff;
}

/** The newest `capacity` events of this process (AUDIT_CAPACITY), none older than AUDIT_RETENTION. */
export function createMemoryAuditStore(options: AuditStoreOptions): AuditStore {
  const events: AuditEvent[] = [];
  let next = 1;
  return {
    async append(event) {
      const stored = { id: String(next++), ...event };
      events.push(stored);
      if (events.length > options.capacity) events.splice(0, events.length - options.capacity);
      const cutoff = retentionCutoff(options);
      const expired = events.findIndex((e) => retained(e, cutoff));
      if (expired > 0) events.splice(0, expired);
      else if (expired < 0) events.length = 0;
      return stored;
    },
    async list({ first, after, filter }) {
      const before = after ? Number(after) : Number.POSITIVE_INFINITY;
      const cutoff = retentionCutoff(options);
      const found: AuditEvent[] = [];
      for (let i = events.length - 1; i >= 0 && found.length <= first; i--) {
        const event = events[i] as AuditEvent;
        if (Number(event.id) < before && retained(event, cutoff) && matches(event, filter))
          found.push(event);
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

/**
 * Records each 401 (no key, or one that is not valid) as an event of the `unauthenticated`
 * caller: the path as its operation, nothing of what was presented.
 */
export function useUnauthenticatedAudit(audit: Audit, requestId: (request: Request) => string) {
  return {
    onResponse({ request, response }: { request: Request; response: Response }) {
      if (response.status !== 401) return;
      const event: Omit<AuditEvent, 'id'> = {
        time: new Date().toISOString(),
        caller: { kind: 'unauthenticated', name: 'unauthenticated' },
        requestId: requestId(request),
        operation: `${request.method} ${new URL(request.url).pathname}`,
        input: {},
        omitted: [],
        upstream: [],
        outcome: 'UNAUTHENTICATED',
        objectIds: [],
        idempotencyKey: null,
      };
      void audit.store.append(event).then(audit.sink, () => audit.sink({ id: '', ...event }));
    },
  };
}
