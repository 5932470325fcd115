import type { z } from 'zod';
import { leanGroup, leanGroupList, leanUser, leanUserList } from './lean.ts';
import { type ListAllResult, type PagingOptions, pageAll } from './paging.ts';
import { patchRequest } from './patch.ts';
import {
  type ListResponse,
  listResponse,
  type PatchOperation,
  SCHEMA_GROUP,
  SCHEMA_USER,
  ScimGroup,
  type ScimGroupInput,
  ScimResourceType,
  ScimSchemaDefinition,
  ScimServiceProviderConfig,
  ScimUser,
  type ScimUserInput,
} from './schemas.ts';
import {
  type CallOptions,
  createTransport,
  type RequestSpec,
  type TransportOptions,
} from './transport.ts';

// The one way the facade talks to a SCIM upstream (Keeper or the emulator): a small,
// resource-shaped client in the style of stripe-node. This file holds the resources (Users,
// Groups, discovery) and how their requests are addressed; transport.ts sends them (attempts,
// retries, deadlines, parsing).

export type { AttemptObserver, CallOptions, UpstreamCall } from './transport.ts';

/** The client's options: those of its transport (transport.ts). */
export type ScimClientOptions = TransportOptions;

type PatchCallOptions = CallOptions & {
  /**
   * The operations can be applied twice with the same outcome (e.g. only `replace` of scalar
   * attributes), so the PATCH may be retried like a PUT.
   * @default false
   */
  idempotent?: boolean;
};

export type ListParams = {
  /** Build it with filter.ts: only allow-listed `eq` filters are safe on Keeper. */
  filter?: string;
  /** 1-based (RFC 7644 §3.4.2.4). */
  startIndex?: number;
  count?: number;
  attributes?: string[];
  excludedAttributes?: string[];
};

/** Filter and attribute selection of every page, plus the pager's limits (paging.ts). */
type ListAllParams = Omit<ListParams, 'startIndex' | 'count'> & PagingOptions;

type UsersApi = {
  list(params?: ListParams, opts?: CallOptions): Promise<ListResponse<ScimUser>>;
  /** Every user of the node, paged (paging.ts). Check `complete` before trusting absence. */
  listAll(params?: ListAllParams, opts?: CallOptions): Promise<ListAllResult<ScimUser>>;
  get(id: string, opts?: CallOptions): Promise<ScimUser>;
  /** POST /Users. Never retried: a lost answer may still have created the user. */
  create(input: ScimUserInput, opts?: CallOptions): Promise<ScimUser>;
  replace(id: string, input: ScimUserInput, opts?: CallOptions): Promise<ScimUser>;
  /**
   * PATCH /Users/{id}. Resolves to the updated user when the upstream answers 200 with a body,
   * and to `undefined` when it answers 204 or an empty 200 (RFC 7644 §3.5.2 allows both): the
   * caller decides whether it needs a fresh `get`.
   */
  patch(
    id: string,
    operations: PatchOperation[],
    opts?: PatchCallOptions,
  ): Promise<ScimUser | undefined>;
  /** DELETE /Users/{id}. On Keeper this LOCKS the user; it stays listed with active:false. */
  delete(id: string, opts?: CallOptions): Promise<void>;
};

type GroupsApi = {
  list(params?: ListParams, opts?: CallOptions): Promise<ListResponse<ScimGroup>>;
  listAll(params?: ListAllParams, opts?: CallOptions): Promise<ListAllResult<ScimGroup>>;
  get(id: string, opts?: CallOptions): Promise<ScimGroup>;
  /** POST /Groups. Never retried. */
  create(input: ScimGroupInput, opts?: CallOptions): Promise<ScimGroup>;
  /** Same contract as `users.patch`: `undefined` on 204 / empty body. */
  patch(
    id: string,
    operations: PatchOperation[],
    opts?: PatchCallOptions,
  ): Promise<ScimGroup | undefined>;
  delete(id: string, opts?: CallOptions): Promise<void>;
};

export type ScimClient = {
  users: UsersApi;
  groups: GroupsApi;
  serviceProviderConfig(opts?: CallOptions): Promise<ScimServiceProviderConfig>;
  /** GET /ResourceTypes, as a list whether the upstream sends a ListResponse or a bare array. */
  resourceTypes(opts?: CallOptions): Promise<ScimResourceType[]>;
  /** GET /Schemas, as a list whether the upstream sends a ListResponse or a bare array. */
  schemas(opts?: CallOptions): Promise<ScimSchemaDefinition[]>;
  /** The Pool's counters (open, free, queued connections), or undefined with an injected dispatcher. */
  poolStats(): { connected: number; free: number; queued: number; running: number } | undefined;
  /** Closes the Pool the client created (not an injected dispatcher). */
  close(): Promise<void>;
};

export function createScimClient(options: ScimClientOptions): ScimClient {
  const { call, send, validate, poolStats, close } = createTransport(options);

  function resource<T extends { id: string }>(
    endpoint: '/Users' | '/Groups',
    schema: z.ZodType<T>,
    schemaUrn: string,
    lean: { item: (body: unknown) => T | undefined; list: (body: unknown) => unknown },
  ) {
    const list = listResponse(schema);
    const itemPath = (id: string) => `${endpoint}/${encodeId(id)}`;
    const itemRoute = `${endpoint}/{id}`;
    const withSchemas = <I extends { schemas?: string[] }>(input: I) => ({
      ...input,
      schemas: input.schemas ?? [schemaUrn],
    });

    // Every method is async, so that argument errors (an empty id, an empty PATCH) reject the
    // returned promise like any other failure instead of throwing synchronously.
    const listPage = async (
      params: ListParams = {},
      opts?: CallOptions,
    ): Promise<ListResponse<T>> =>
      call(
        { method: 'GET', route: endpoint, path: endpoint, query: listQuery(params) },
        list,
        opts,
        lean.list as (body: unknown) => z.output<typeof list> | undefined,
      ) as Promise<ListResponse<T>>;

    return {
      list: listPage,
      listAll: async (params: ListAllParams = {}, opts?: CallOptions) => {
        const { pageSize, maxPages, maxItems, concurrency, expectedTotal, ...query } = params;
        return pageAll<T>((startIndex, count) => listPage({ ...query, startIndex, count }, opts), {
          pageSize,
          maxPages,
          maxItems,
          concurrency,
          expectedTotal,
        });
      },
      get: async (id: string, opts?: CallOptions): Promise<T> =>
        call({ method: 'GET', route: itemRoute, path: itemPath(id) }, schema, opts, lean.item),
      create: async (input: ScimUserInput | ScimGroupInput, opts?: CallOptions): Promise<T> =>
        call(
          { method: 'POST', route: endpoint, path: endpoint, body: withSchemas(input) },
          schema,
          opts,
          lean.item,
        ),
      replace: async (id: string, input: ScimUserInput | ScimGroupInput, opts?: CallOptions) =>
        call(
          { method: 'PUT', route: itemRoute, path: itemPath(id), body: withSchemas(input) },
          schema,
          opts,
          lean.item,
        ),
      patch: async (
        id: string,
        operations: PatchOperation[],
        opts?: PatchCallOptions,
      ): Promise<T | undefined> => {
        const spec: RequestSpec = {
          method: 'PATCH',
          route: itemRoute,
          path: itemPath(id),
          body: patchRequest(operations),
          idempotent: opts?.idempotent ?? false,
        };
        const answer = await send(spec, opts);
        return answer.body === undefined ? undefined : validate(spec, answer, schema, lean.item);
      },
      delete: async (id: string, opts?: CallOptions): Promise<void> => {
        await send({ method: 'DELETE', route: itemRoute, path: itemPath(id) }, opts);
      },
    };
  }

  const users = resource('/Users', ScimUser, SCHEMA_USER, { item: leanUser, list: leanUserList });
  const groups = resource('/Groups', ScimGroup, SCHEMA_GROUP, {
    item: leanGroup,
    list: leanGroupList,
  });

  const listOrArray = <T extends z.ZodType>(item: T) =>
    listResponse(item)
      .transform((l) => l.Resources)
      .or(item.array());

  return {
    users: {
      list: users.list,
      listAll: users.listAll,
      get: users.get,
      create: users.create,
      replace: users.replace,
      patch: users.patch,
      delete: users.delete,
    },
    groups: {
      list: groups.list,
      listAll: groups.listAll,
      get: groups.get,
      create: groups.create,
      patch: groups.patch,
      delete: groups.delete,
    },
    serviceProviderConfig: (opts) =>
      call(
        { method: 'GET', route: '/ServiceProviderConfig', path: '/ServiceProviderConfig' },
        ScimServiceProviderConfig,
        opts,
      ),
    resourceTypes: (opts) =>
      call(
        { method: 'GET', route: '/ResourceTypes', path: '/ResourceTypes' },
        listOrArray(ScimResourceType),
        opts,
      ),
    schemas: (opts) =>
      call(
        { method: 'GET', route: '/Schemas', path: '/Schemas' },
        listOrArray(ScimSchemaDefinition),
        opts,
      ),
    poolStats,
    close,
  };
}

function encodeId(id: string): string {
  // An empty id would turn GET /Users/{id} into GET /Users/, i.e. a list; `.` and `..` (which
  // encodeURIComponent leaves alone) would address {base}/Users or {base} once a server or proxy
  // normalises the path.
  if (typeof id !== 'string' || id.length === 0) {
    throw new TypeError('A SCIM id must be a non-empty string');
  }
  if (id === '.' || id === '..') throw new TypeError('A SCIM id must not be a dot segment');
  return encodeURIComponent(id);
}

/** Query string of a list call; `%20` for spaces, which every server decodes (docs/keeper-scim.md §4). */
export function listQuery(params: ListParams): string {
  const parts: string[] = [];
  const add = (key: string, value: string) => parts.push(`${key}=${encodeURIComponent(value)}`);
  if (params.filter !== undefined) add('filter', params.filter);
  if (params.startIndex !== undefined) add('startIndex', String(params.startIndex));
  if (params.count !== undefined) add('count', String(params.count));
  if (params.attributes?.length) add('attributes', params.attributes.join(','));
  if (params.excludedAttributes?.length) {
    add('excludedAttributes', params.excludedAttributes.join(','));
  }
  return parts.join('&');
}
