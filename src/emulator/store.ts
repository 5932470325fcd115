import { badRequest, EmulatorError, notFound } from './errors.ts';
import { createPrng, type Prng, seedFromString } from './prng.ts';

// The state of one Keeper SCIM node: users, teams, roles, and ONE membership table from which both
// User.groups and Group.members are derived, so the two can never disagree (docs/keeper-scim.md §5 A:
// Keeper accepts membership writes on either side). Every method is synchronous; since node:http
// handlers run on one thread, a request that validates and then commits cannot interleave with
// another one, which is what makes PATCH atomic (RFC 7644 §3.5.2).

export type UserName = { givenName?: string; familyName?: string; formatted?: string };

export type UserRecord = {
  id: string;
  userName: string;
  /** Unset means "defaults to userName" when rendered (docs/keeper-scim.md §2.2). */
  displayName?: string;
  externalId?: string;
  name?: UserName;
  title?: string;
  /** false = locked in Keeper (PATCH active:false or DELETE). */
  active: boolean;
};

/** The attributes a client may write on a user (RFC 7643 §4.1, minus what Keeper ignores). */
export type UserFields = Omit<UserRecord, 'id'>;

export type UserInput = Partial<UserFields> & {
  userName: string;
  /** Team or role ids to join at creation (docs/keeper-scim.md §1: `groups[].value` on POST). */
  groups?: string[];
};

export type GroupKind = 'team' | 'role';

export type GroupRecord = {
  /** Team UID (22-char base64url) for teams, int64 decimal for roles (docs/keeper-scim.md §3). */
  id: string;
  kind: GroupKind;
  /** For roles, the full prefixed name as the IdP sent it (e.g. `ROLE_Admins`). */
  displayName: string;
  /** Unset for teams created outside SCIM (docs/keeper-scim.md §8.15). */
  externalId?: string;
};

export type GroupInput = { displayName: string; externalId?: string };

export type StoreOptions = {
  nodeId: string;
  seats: number;
  rolePrefix: string;
  /** Seeds the team UID generator; defaults to one derived from nodeId. */
  uidSeed?: number;
  /**
   * A generic RFC 7644 server instead of Keeper: userName unique with its case, group names
   * unique (409 uniqueness), unknown member ids refused with 400 invalidValue. @default false
   */
  rfcStrict?: boolean;
};

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class EmulatorStore {
  readonly nodeId: string;
  readonly rolePrefix: string;
  readonly rfcStrict: boolean;
  seats: number;

  readonly #users = new Map<string, UserRecord>();
  /** User ids in listing order (insertion order of #users), rebuilt after a delete. */
  #order: string[] = [];
  readonly #byUserName = new Map<string, string>();
  readonly #groups = new Map<string, GroupRecord>();
  /** groupId → member user ids, in the order they joined. The single source of membership. */
  readonly #members = new Map<string, Set<string>>();
  readonly #prng: Prng;
  #nextId: bigint;

  constructor(options: StoreOptions) {
    this.nodeId = options.nodeId;
    this.seats = options.seats;
    this.rolePrefix = options.rolePrefix;
    this.rfcStrict = options.rfcStrict ?? false;
    this.#prng = createPrng(options.uidSeed ?? seedFromString(options.nodeId));
    // Keeper allocates user, role and node ids from one per-enterprise counter, so they share the
    // node id's `enterprise_id << 32 + seq` space (docs/keeper-scim.md §3). Ids only ever increase and
    // are never reused, as Keeper's stale-id 404s show (docs/keeper-scim.md §8.2).
    this.#nextId = BigInt(options.nodeId) + 17n;
  }

  // ---- users ---------------------------------------------------------------------------------

  listUsers(): UserRecord[] {
    return [...this.#users.values()].map(cloneUser);
  }

  /**
   * Users `from` (0-based) up to `to` (exclusive), in listing order, without touching the others:
   * a page of a 100 000-user node costs its page, not the node.
   */
  usersSlice(from: number, to: number): UserRecord[] {
    if (this.#order.length !== this.#users.size) this.#order = [...this.#users.keys()];
    return this.#order.slice(from, to).map((id) => cloneUser(this.#users.get(id) as UserRecord));
  }

  getUser(id: string): UserRecord | undefined {
    const user = this.#users.get(id);
    return user && cloneUser(user);
  }

  /** For tests: the user with this userName in any case (the exact case first). */
  findUserByUserName(userName: string): UserRecord | undefined {
    const id = this.#byUserName.get(this.#nameKey(userName));
    if (id !== undefined) return this.getUser(id);
    const lower = userName.toLowerCase();
    const user = [...this.#users.values()].find((u) => u.userName.toLowerCase() === lower);
    return user && cloneUser(user);
  }

  /** Keeper compares userName without case (RFC 7643 caseExact=false); a strict server with it. */
  #nameKey(userName: string): string {
    return this.rfcStrict ? userName : userName.toLowerCase();
  }

  get userCount(): number {
    return this.#users.size;
  }

  requireUser(id: string): UserRecord {
    const user = this.getUser(id);
    if (!user) throw notFound(`User ${id} not found in node ${this.nodeId}`);
    return user;
  }

  /** Throws the error Keeper would answer if `fields` could not be stored for user `selfId`. */
  checkUserFields(fields: UserFields, selfId?: string): void {
    if (typeof fields.userName !== 'string' || fields.userName === '') {
      throw badRequest('invalidValue', 'userName is required');
    }
    // docs/keeper-scim.md §2.1: "Keeper user name must be an email address".
    if (!EMAIL.test(fields.userName)) {
      throw badRequest('invalidValue', `userName must be an e-mail address: ${fields.userName}`);
    }
    // userName is caseExact=false (RFC 7643 §4.1.1), so Keeper's uniqueness ignores case; some
    // RFC servers compare it with its case, which the rfc-strict profile reproduces.
    const owner = this.#byUserName.get(this.#nameKey(fields.userName));
    if (owner !== undefined && owner !== selfId) {
      throw new EmulatorError(409, 'Email already taken', 'uniqueness');
    }
  }

  checkGroupIds(groupIds: readonly string[]): void {
    for (const groupId of groupIds) this.requireGroup(groupId);
  }

  createUser(input: UserInput): UserRecord {
    const fields = userFields(input);
    this.checkUserFields(fields);
    // Locked and invited users hold a seat too (docs/keeper-scim.md §7 "Licences": default to yes).
    if (this.#users.size >= this.seats) {
      throw new EmulatorError(428, 'Number of licensed seats was exceeded');
    }
    const groups = input.groups ?? [];
    this.checkGroupIds(groups);
    const user: UserRecord = { id: this.allocateId(), ...fields };
    this.#users.set(user.id, user);
    if (this.#order.length === this.#users.size - 1) this.#order.push(user.id);
    this.#byUserName.set(this.#nameKey(user.userName), user.id);
    for (const groupId of groups) this.#memberSet(groupId).add(user.id);
    return cloneUser(user);
  }

  /**
   * Replaces every writable attribute of a user. When `groupIds` is given, the user's memberships
   * become exactly that set. Validation happens before any change.
   */
  commitUser(id: string, fields: UserFields, groupIds?: readonly string[]): UserRecord {
    const current = this.#users.get(id);
    if (!current) throw notFound(`User ${id} not found in node ${this.nodeId}`);
    this.checkUserFields(fields, id);
    if (groupIds) this.checkGroupIds(groupIds);
    this.#byUserName.delete(this.#nameKey(current.userName));
    const next: UserRecord = { id, ...userFields(fields) };
    this.#users.set(id, next);
    this.#byUserName.set(this.#nameKey(next.userName), id);
    if (groupIds) this.setGroupsOfUser(id, groupIds);
    return cloneUser(next);
  }

  setActive(id: string, active: boolean): UserRecord {
    const user = this.#users.get(id);
    if (!user) throw notFound(`User ${id} not found in node ${this.nodeId}`);
    user.active = active;
    return cloneUser(user);
  }

  /** RFC 7644 §3.6 DELETE: the user and its memberships are gone (Keeper locks instead). */
  deleteUser(id: string): void {
    const user = this.#users.get(id);
    if (!user) throw notFound(`User ${id} not found in node ${this.nodeId}`);
    this.#users.delete(id);
    this.#byUserName.delete(this.#nameKey(user.userName));
    for (const members of this.#members.values()) members.delete(id);
  }

  /**
   * A user named as a group member. Keeper answers 404 for an unknown one (docs/keeper-scim.md §5 rule
   * 8); a strict RFC server refuses the value of the request instead (400 invalidValue).
   */
  requireMember(userId: string): UserRecord {
    const user = this.getUser(userId);
    if (user) return user;
    if (this.rfcStrict) throw badRequest('invalidValue', `Unknown member ${userId}`);
    throw notFound(`User ${userId} not found in node ${this.nodeId}`);
  }

  // ---- groups (teams and roles) -------------------------------------------------------------

  isRoleName(displayName: string): boolean {
    return this.rolePrefix !== '' && displayName.startsWith(this.rolePrefix);
  }

  listGroups(kind?: GroupKind): GroupRecord[] {
    return [...this.#groups.values()]
      .filter((g) => kind === undefined || g.kind === kind)
      .map(clone);
  }

  listTeams(): GroupRecord[] {
    return this.listGroups('team');
  }

  listRoles(): GroupRecord[] {
    return this.listGroups('role');
  }

  getGroup(id: string): GroupRecord | undefined {
    const group = this.#groups.get(id);
    return group && clone(group);
  }

  requireGroup(id: string): GroupRecord {
    const group = this.getGroup(id);
    // docs/keeper-scim.md §1: "The referenced teams must belong to the same node. Returns 404".
    if (!group) throw notFound(`Group ${id} not found in node ${this.nodeId}`);
    return group;
  }

  /** POST /Groups: a role when the name carries the role prefix, else a team (docs/keeper-scim.md §7). */
  createGroup(input: GroupInput, memberIds: readonly string[] = []): GroupRecord {
    const kind: GroupKind = this.isRoleName(input.displayName) ? 'role' : 'team';
    return this.#addGroup(kind, input, memberIds);
  }

  createTeam(input: GroupInput, memberIds: readonly string[] = []): GroupRecord {
    return this.#addGroup('team', input, memberIds);
  }

  createRole(input: GroupInput, memberIds: readonly string[] = []): GroupRecord {
    return this.#addGroup('role', input, memberIds);
  }

  checkGroupFields(kind: GroupKind, input: GroupInput): void {
    if (typeof input.displayName !== 'string' || input.displayName.trim() === '') {
      throw badRequest('invalidValue', 'displayName is required');
    }
    // Keeper keeps teams and roles in different tables; moving a group across the prefix boundary
    // by renaming is an open question (docs/keeper-scim.md §9.7), so the emulator refuses it.
    if (this.isRoleName(input.displayName) !== (kind === 'role')) {
      throw badRequest(
        'mutability',
        `A ${kind} cannot be renamed to "${input.displayName}": the role prefix "${this.rolePrefix}" decides whether a group is a team or a role`,
      );
    }
  }

  commitGroup(id: string, input: GroupInput, memberIds?: readonly string[]): GroupRecord {
    const current = this.#groups.get(id);
    if (!current) throw notFound(`Group ${id} not found in node ${this.nodeId}`);
    this.checkGroupFields(current.kind, input);
    this.#checkGroupNameFree(input.displayName, id);
    if (memberIds) for (const userId of memberIds) this.requireMember(userId);
    const next: GroupRecord = { id, kind: current.kind, ...groupFields(input) };
    this.#groups.set(id, next);
    if (memberIds) this.#members.set(id, new Set(memberIds));
    return clone(next);
  }

  deleteGroup(id: string): void {
    if (!this.#groups.delete(id)) throw notFound(`Group ${id} not found in node ${this.nodeId}`);
    this.#members.delete(id);
  }

  // ---- membership ----------------------------------------------------------------------------

  membersOf(groupId: string): string[] {
    return [...(this.#members.get(groupId) ?? [])];
  }

  /** Group ids the user belongs to, in group creation order. */
  groupsOf(userId: string): string[] {
    const ids: string[] = [];
    for (const [groupId, members] of this.#members) if (members.has(userId)) ids.push(groupId);
    return ids;
  }

  addMember(groupId: string, userId: string): void {
    this.requireGroup(groupId);
    this.requireUser(userId);
    this.#memberSet(groupId).add(userId);
  }

  removeMember(groupId: string, userId: string): void {
    this.requireGroup(groupId);
    this.#members.get(groupId)?.delete(userId);
  }

  setGroupsOfUser(userId: string, groupIds: readonly string[]): void {
    this.requireUser(userId);
    this.checkGroupIds(groupIds);
    const wanted = new Set(groupIds);
    for (const [groupId, members] of this.#members) {
      if (!wanted.has(groupId)) members.delete(userId);
    }
    for (const groupId of wanted) this.#memberSet(groupId).add(userId);
  }

  // ---- ids -----------------------------------------------------------------------------------

  allocateId(): string {
    const id = this.#nextId;
    this.#nextId += 1n;
    return id.toString();
  }

  /**
   * A Keeper Team UID: 16 random bytes as unpadded base64url (22 chars). Commander's generate_uid
   * clears bit 7 of the first byte when its top 5 bits are all set, so the UID never starts with
   * `-` or `_` (docs/keeper-scim.md §3).
   */
  allocateTeamUid(): string {
    for (;;) {
      const bytes = this.#prng.bytes(16);
      if (((bytes[0] ?? 0) & 0xf8) === 0xf8) bytes[0] = (bytes[0] ?? 0) & 0x7f;
      const uid = Buffer.from(bytes).toString('base64url');
      if (!this.#groups.has(uid)) return uid;
    }
  }

  #addGroup(kind: GroupKind, input: GroupInput, memberIds: readonly string[]): GroupRecord {
    this.checkGroupFields(kind, input);
    // Duplicate display names are allowed on Keeper: its team-name uniqueness is an open question
    // (docs/keeper-scim.md §9.15), and a permissive upstream is the harder one for a retrying client.
    this.#checkGroupNameFree(input.displayName);
    for (const userId of memberIds) this.requireMember(userId);
    const id = kind === 'team' ? this.allocateTeamUid() : this.allocateId();
    const group: GroupRecord = { id, kind, ...groupFields(input) };
    this.#groups.set(id, group);
    this.#members.set(id, new Set(memberIds));
    return clone(group);
  }

  /** A strict RFC server keeps displayName unique among groups (409 uniqueness). */
  #checkGroupNameFree(displayName: string, selfId?: string): void {
    if (!this.rfcStrict) return;
    for (const group of this.#groups.values()) {
      if (group.id !== selfId && group.displayName === displayName) {
        throw new EmulatorError(409, `A group named ${displayName} already exists`, 'uniqueness');
      }
    }
  }

  #memberSet(groupId: string): Set<string> {
    let set = this.#members.get(groupId);
    if (!set) {
      set = new Set();
      this.#members.set(groupId, set);
    }
    return set;
  }
}

/** Drops empty strings and empty objects: Keeper omits unset attributes (docs/keeper-scim.md §2.2). */
function userFields(input: Partial<UserFields> & { userName: string }): UserFields {
  const fields: UserFields = { userName: input.userName, active: input.active ?? true };
  if (input.displayName) fields.displayName = input.displayName;
  if (input.externalId) fields.externalId = input.externalId;
  if (input.title) fields.title = input.title;
  const name: UserName = {};
  if (input.name?.givenName) name.givenName = input.name.givenName;
  if (input.name?.familyName) name.familyName = input.name.familyName;
  if (input.name?.formatted) name.formatted = input.name.formatted;
  if (Object.keys(name).length > 0) fields.name = name;
  return fields;
}

function groupFields(input: GroupInput): Omit<GroupRecord, 'id' | 'kind'> {
  return input.externalId
    ? { displayName: input.displayName, externalId: input.externalId }
    : { displayName: input.displayName };
}

function cloneUser(user: UserRecord): UserRecord {
  return user.name ? { ...user, name: { ...user.name } } : { ...user };
}

function clone<T extends object>(value: T): T {
  return { ...value };
}
