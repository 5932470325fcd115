import { createPrng, type Prng } from './prng.ts';
import type { EmulatorStore } from './store.ts';

// The `demo` data set: one realistic Keeper node, identical on every run (seeded PRNG, no
// Math.random). 520 users on @acme.example with ~5% locked and externalIds on ~90%; 28 teams of
// 0–200 members, some without externalId ("created outside SCIM", docs/keeper-scim.md §8.15); 6 roles
// named with the role prefix, all with members.

const FIRST = [
  'Aiko',
  'Alejandro',
  'Amara',
  'Anders',
  'Anika',
  'Arjun',
  'Beatriz',
  'Bilal',
  'Camille',
  'Chen',
  'Chiara',
  'Dmitri',
  'Elena',
  'Emeka',
  'Fatima',
  'Felix',
  'Freya',
  'Gabriel',
  'Hana',
  'Hugo',
  'Ingrid',
  'Isaac',
  'Jamal',
  'Javier',
  'Jin',
  'Julia',
  'Kai',
  'Kavya',
  'Lars',
  'Leila',
  'Liam',
  'Lucía',
  'Malik',
  'Maria',
  'Mateo',
  'Mei',
  'Mia',
  'Nadia',
  'Noah',
  'Nora',
  'Olu',
  'Omar',
  'Priya',
  'Rafael',
  'Rania',
  'Ravi',
  'Rosa',
  'Sakura',
  'Samuel',
  'Sara',
  'Sebastian',
  'Siobhan',
  'Sofia',
  'Tariq',
  'Thomas',
  'Tomás',
  'Valentina',
  'Wei',
  'Yara',
  'Yusuf',
  'Zainab',
  'Zoe',
];
const LAST = [
  'Abe',
  'Adeyemi',
  'Alvarez',
  'Andersen',
  'Bauer',
  'Bianchi',
  'Brennan',
  'Chowdhury',
  'Costa',
  'Dubois',
  'Eriksson',
  'Fernandes',
  'Fischer',
  'García',
  'Gupta',
  'Haddad',
  'Hansen',
  'Hoffmann',
  'Ivanova',
  'Jansen',
  'Kowalski',
  'Kim',
  'Kumar',
  'Lambert',
  'Larsen',
  'Li',
  'López',
  'Martin',
  'Moreau',
  'Müller',
  'Nakamura',
  'Nguyen',
  'Novak',
  "O'Brien",
  'Okafor',
  'Olsen',
  'Park',
  'Patel',
  'Pereira',
  'Petrov',
  'Popescu',
  'Rossi',
  'Sato',
  'Schmidt',
  'Silva',
  'Singh',
  'Smith',
  'Suzuki',
  'Tanaka',
  'Van Dijk',
  'Wagner',
  'Walsh',
  'Wang',
  'Weber',
  'Williams',
  'Yilmaz',
  'Zhang',
];
const TITLES = [
  'Software Engineer',
  'Senior Software Engineer',
  'Product Manager',
  'Designer',
  'Accountant',
  'Sales Executive',
  'Support Specialist',
  'Data Analyst',
  'IT Administrator',
  'Recruiter',
];
// [name, size, SCIM-managed?]
const TEAMS: readonly (readonly [string, number, boolean])[] = [
  ['Engineering', 200, true],
  ['Platform', 64, true],
  ['Mobile', 31, true],
  ['Web', 47, true],
  ['Data Science', 22, true],
  ['Security', 12, true],
  ['IT Operations', 18, false],
  ['Customer Support', 88, true],
  ['Sales EMEA', 41, true],
  ['Sales Americas', 53, true],
  ['Sales APAC', 19, true],
  ['Marketing', 36, true],
  ['Finance', 14, true],
  ['Legal', 6, false],
  ['People Ops', 9, true],
  ['Executive', 7, true],
  ['Design', 16, true],
  ['QA', 25, true],
  ['Release Managers', 4, true],
  ['On-call Rotation', 30, true],
  ['Interns 2025', 11, true],
  ['Contractors', 27, true],
  ['Facilities', 3, false],
  ['Board Observers', 1, true],
  ['Shared Vault Admins', 5, false],
  ['Incident Response', 13, true],
  ['Archive', 0, true],
  ['Tokyo Office', 29, true],
];
const ROLES: readonly (readonly [string, number])[] = [
  ['Admins', 5],
  ['Helpdesk', 12],
  ['Auditors', 4],
  ['Engineering Leads', 15],
  ['Finance Approvers', 6],
  ['Contractors Restricted', 27],
];

const DEMO_DOMAIN = 'acme.example';
const DEMO_USER_COUNT = 520;

export function seedDemo(store: EmulatorStore, seed = 20_240_611): void {
  const prng = createPrng(seed);
  const taken = new Set<string>();
  const userIds: string[] = [];
  for (let i = 0; i < DEMO_USER_COUNT; i++) {
    const given = prng.pick(FIRST);
    const family = prng.pick(LAST);
    const local = `${ascii(given)}.${ascii(family)}`;
    let userName = `${local}@${DEMO_DOMAIN}`;
    for (let n = 2; taken.has(userName); n++) userName = `${local}${n}@${DEMO_DOMAIN}`;
    taken.add(userName);
    // A few users look like Nango's recorded invite: no name, displayName defaulted to userName.
    const bare = prng.next() < 0.03;
    const user = store.createUser({
      userName,
      ...(bare
        ? {}
        : { displayName: `${given} ${family}`, name: { givenName: given, familyName: family } }),
      ...(prng.next() < 0.9 ? { externalId: guid(prng) } : {}),
      ...(prng.next() < 0.4 ? { title: prng.pick(TITLES) } : {}),
      active: prng.next() >= 0.05,
    });
    userIds.push(user.id);
  }
  for (const [name, size, managed] of TEAMS) {
    store.createTeam(
      { displayName: name, ...(managed ? { externalId: guid(prng) } : {}) },
      sample(prng, userIds, size),
    );
  }
  for (const [name, size] of ROLES) {
    store.createRole(
      { displayName: `${store.rolePrefix}${name}`, externalId: guid(prng) },
      sample(prng, userIds, size),
    );
  }
}

/** Local parts of e-mail addresses: lower case ASCII letters only. */
function ascii(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

/** An Entra-style object id (GUID), from the PRNG. */
function guid(prng: Prng): string {
  const hex = Buffer.from(prng.bytes(16)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `size` distinct items, in a PRNG-chosen order (partial Fisher–Yates). */
function sample<T>(prng: Prng, items: readonly T[], size: number): T[] {
  const pool = [...items];
  const n = Math.min(size, pool.length);
  for (let i = 0; i < n; i++) {
    const j = prng.int(i, pool.length - 1);
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, n);
}

/**
 * Grows a node to `total` users (benchmarks and scale tests): `user<n>@scale.example`, each in one
 * existing team and every tenth in a role too, written straight into the store (no HTTP).
 */
export function growUsers(store: EmulatorStore, total: number): void {
  store.seats = Math.max(store.seats, total);
  const teams = store.listTeams().map((t) => t.id);
  const roles = store.listRoles().map((r) => r.id);
  for (let n = store.userCount; n < total; n++) {
    const groups: string[] = [];
    if (teams.length > 0) groups.push(teams[n % teams.length] as string);
    if (roles.length > 0 && n % 10 === 0) groups.push(roles[n % roles.length] as string);
    store.createUser({
      userName: `user${n}@scale.example`,
      displayName: `Scale User ${n}`,
      externalId: `scale-${n}`,
      active: n % 20 !== 0,
      groups,
    });
  }
}
