import type { FilterProfile } from './filter.ts';
import {
  SCHEMA_GROUP,
  SCHEMA_LIST,
  SCHEMA_RESOURCE_TYPE,
  SCHEMA_SCHEMA,
  SCHEMA_SPC,
  SCHEMA_USER,
} from './urns.ts';

// Discovery documents (RFC 7643 §5–7). Keeper serves these URLs but has never published their
// content (docs/keeper-scim.md §2.5, §9.13); these are the constructed versions from docs/keeper-scim.md,
// with the limits the emulator actually enforces.

export const MAX_RESULTS = 1000;

export function serviceProviderConfig(profile: FilterProfile) {
  return {
    schemas: [SCHEMA_SPC],
    documentationUri:
      'https://docs.keeper.io/enterprise-guide/user-and-team-provisioning/automated-provisioning-with-scim',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: {
      supported: true,
      maxResults: MAX_RESULTS,
      // Non-standard hint for humans; the facade never relies on it (it probes instead).
      ...(profile === 'rfc' ? { 'x-emulatorFilterProfile': 'rfc' } : {}),
    },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Per-node SCIM token generated in the Keeper Admin Console',
        primary: true,
      },
    ],
  };
}

const RESOURCE_TYPES = {
  User: {
    schemas: [SCHEMA_RESOURCE_TYPE],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'Keeper user (enterprise user of this node)',
    schema: SCHEMA_USER,
  },
  Group: {
    schemas: [SCHEMA_RESOURCE_TYPE],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Keeper team, or a role when displayName starts with the role prefix',
    schema: SCHEMA_GROUP,
  },
} as const;

export function resourceType(id: string) {
  const key = Object.keys(RESOURCE_TYPES).find((k) => k.toLowerCase() === id.toLowerCase());
  return key === undefined ? undefined : RESOURCE_TYPES[key as keyof typeof RESOURCE_TYPES];
}

function listOf<T>(resources: T[]) {
  return {
    schemas: [SCHEMA_LIST],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

export const resourceTypes = () => listOf(Object.values(RESOURCE_TYPES));

type Attribute = {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'default' | 'never';
  uniqueness: 'none' | 'server';
  subAttributes?: Attribute[];
};

// RFC 7643 §7 attribute characteristics with the defaults of §2.2, overridden per attribute.
const attr = (
  name: string,
  description: string,
  more: Partial<Omit<Attribute, 'name' | 'description'>> = {},
): Attribute => ({
  name,
  type: 'string',
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...more,
});

const USER_SCHEMA = {
  schemas: [SCHEMA_SCHEMA],
  id: SCHEMA_USER,
  name: 'User',
  description: 'Keeper user',
  attributes: [
    attr('userName', 'E-mail address; unique across Keeper, compared without case', {
      required: true,
      uniqueness: 'server',
    }),
    attr('displayName', 'Full name; defaults to userName'),
    attr('name', 'Stored, not shown in the Admin Console', {
      type: 'complex',
      subAttributes: [
        attr('givenName', 'Given name'),
        attr('familyName', 'Family name'),
        attr('formatted', 'Full name, formatted'),
      ],
    }),
    attr('title', 'Job title'),
    attr('emails', 'Synthesised from userName', {
      type: 'complex',
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attr('value', 'E-mail address'),
        attr('type', 'Always "work"'),
        attr('primary', 'Always true', { type: 'boolean' }),
      ],
    }),
    attr('active', 'false = locked in Keeper', { type: 'boolean' }),
    attr('groups', 'Teams and roles; writable by PATCH in Keeper (RFC 7643 says readOnly)', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attr('value', 'Team UID or role id', { caseExact: true }),
        attr('display', 'Team or role name', { mutability: 'readOnly' }),
      ],
    }),
  ],
};

const GROUP_SCHEMA = {
  schemas: [SCHEMA_SCHEMA],
  id: SCHEMA_GROUP,
  name: 'Group',
  description: 'Keeper team (or role, by display-name prefix)',
  attributes: [
    attr('displayName', 'Team name, or role name including the role prefix', { required: true }),
    attr('members', 'Users of the team or role', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attr('value', 'Keeper enterprise user id', { caseExact: true, mutability: 'immutable' }),
        attr('display', 'userName of the member', { mutability: 'readOnly' }),
      ],
    }),
  ],
};

const SCHEMAS = [USER_SCHEMA, GROUP_SCHEMA];

export const schemas = () => listOf(SCHEMAS);

export function schema(urn: string) {
  return SCHEMAS.find((s) => s.id.toLowerCase() === urn.toLowerCase());
}
