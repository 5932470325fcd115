import { z } from 'zod';

// Wire shapes of the SCIM resources the facade reads from Keeper (RFC 7643 §4, §8.7.1 and
// docs/keeper-scim.md §2). Tolerant where Keeper is known to be sparse (no `meta`, no `externalId`,
// `displayName` defaulted, unknown attributes), strict where a wrong shape would corrupt data:
// ids must be non-empty strings and list counters must be integers.

export const SCHEMA_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCHEMA_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCHEMA_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

// Keeper serialises its int64 user ids as JSON strings of digits, but a generic SCIM server may
// send numbers: accept both and always hand strings to the rest of the facade.
const Id = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);

/** `null` and absent mean the same thing to the facade: not set. */
const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

const ScimMultiValue = z.looseObject({
  value: Id,
  display: optionalString,
  type: optionalString,
  $ref: optionalString,
});

const ScimEmail = z.looseObject({
  value: z.string(),
  type: optionalString,
  primary: z.boolean().nullish(),
});

// `active` arrives as a boolean from Keeper; string booleans are Entra's legacy dialect and are
// accepted here so that a lenient upstream cannot make a locked user look active.
const Active = z
  .union([z.boolean(), z.enum(['true', 'false', 'True', 'False', 'TRUE', 'FALSE'])])
  .transform((v) => (typeof v === 'boolean' ? v : v.toLowerCase() === 'true'));

export const ScimUser = z.looseObject({
  schemas: z.array(z.string()).optional(),
  id: Id,
  userName: z.string().min(1),
  externalId: optionalString,
  displayName: optionalString,
  name: z
    .looseObject({
      givenName: optionalString,
      familyName: optionalString,
      formatted: optionalString,
    })
    .nullish()
    .transform((v) => v ?? undefined),
  emails: z
    .array(ScimEmail)
    .nullish()
    .transform((v) => v ?? []),
  groups: z
    .array(ScimMultiValue)
    .nullish()
    .transform((v) => v ?? undefined),
  // RFC 7643 §4.1.1: absent means active. Keeper always sends it.
  active: Active.nullish().transform((v) => v ?? true),
});
export type ScimUser = z.infer<typeof ScimUser>;

export const ScimGroup = z.looseObject({
  schemas: z.array(z.string()).optional(),
  id: Id,
  displayName: z.string(),
  externalId: optionalString,
  // Whether Keeper returns `members` is undocumented (docs/keeper-scim.md §2.3): `undefined` means
  // "not returned", which is different from `[]` ("returned, and empty").
  members: z
    .array(ScimMultiValue)
    .nullish()
    .transform((v) => v ?? undefined),
});
export type ScimGroup = z.infer<typeof ScimGroup>;

/**
 * RFC 7644 §3.4.2. `startIndex` and `itemsPerPage` are optional here because generic servers omit
 * them on unpaged answers; the pager never trusts `itemsPerPage` anyway (Keeper may echo the
 * requested count) and counts `Resources` instead.
 */
export const listResponse = <T extends z.ZodType>(resource: T) =>
  z.looseObject({
    schemas: z.array(z.string()).optional(),
    totalResults: z.number().int().nonnegative(),
    startIndex: z.number().int().optional(),
    itemsPerPage: z.number().int().optional(),
    Resources: z
      .array(resource)
      .nullish()
      .transform((v) => v ?? []),
  });
export type ListResponse<T> = {
  totalResults: number;
  startIndex?: number | undefined;
  itemsPerPage?: number | undefined;
  Resources: T[];
};

/** RFC 7644 §3.12. `status` is a string in the RFC; some servers send a number. */
export const ScimErrorBody = z.looseObject({
  schemas: z.array(z.string()).optional(),
  status: z.union([z.string(), z.number()]).optional(),
  scimType: optionalString,
  detail: optionalString,
});
export type ScimErrorBody = z.infer<typeof ScimErrorBody>;

export type PatchOperation = {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
};

export type PatchRequest = {
  schemas: [typeof SCHEMA_PATCH];
  Operations: PatchOperation[];
};

/** What the facade sends on POST / PUT /Users. Empty attributes are omitted, never `null`. */
export type ScimUserInput = {
  schemas?: string[];
  userName: string;
  displayName?: string;
  externalId?: string;
  name?: { givenName?: string; familyName?: string };
  emails?: { value: string; primary?: boolean; type?: string }[];
  groups?: { value: string }[];
  active?: boolean;
};

/** What the facade sends on POST /Groups. */
export type ScimGroupInput = {
  schemas?: string[];
  displayName: string;
  externalId?: string;
  members?: { value: string }[];
};

// Discovery documents (RFC 7643 §5–7). Keeper's content is unpublished (docs/keeper-scim.md §2.5), so
// only the parts the facade may probe are typed and everything is optional.
const Supported = z.looseObject({ supported: z.boolean().optional() }).optional();

export const ScimServiceProviderConfig = z.looseObject({
  schemas: z.array(z.string()).optional(),
  documentationUri: optionalString,
  patch: Supported,
  bulk: z
    .looseObject({
      supported: z.boolean().optional(),
      maxOperations: z.number().optional(),
      maxPayloadSize: z.number().optional(),
    })
    .optional(),
  filter: z
    .looseObject({ supported: z.boolean().optional(), maxResults: z.number().optional() })
    .optional(),
  changePassword: Supported,
  sort: Supported,
  etag: Supported,
  authenticationSchemes: z.array(z.looseObject({})).optional(),
});
export type ScimServiceProviderConfig = z.infer<typeof ScimServiceProviderConfig>;

export const ScimResourceType = z.looseObject({
  schemas: z.array(z.string()).optional(),
  id: optionalString,
  name: z.string(),
  endpoint: z.string(),
  schema: z.string(),
  description: optionalString,
});
export type ScimResourceType = z.infer<typeof ScimResourceType>;

export const ScimSchemaDefinition = z.looseObject({
  id: z.string(),
  name: optionalString,
  description: optionalString,
  attributes: z.array(z.looseObject({ name: z.string() })).optional(),
});
export type ScimSchemaDefinition = z.infer<typeof ScimSchemaDefinition>;
