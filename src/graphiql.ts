// The document GraphiQL opens with: working example operations over the demo data
// (docs/design.md: "GraphiQL opens with working example operations"). Each runs as it is.

export const EXAMPLE_OPERATIONS = /* GraphQL */ `# keeper-scim-graphql: a typed GraphQL API over Keeper SCIM.
# Pick an operation with the run button's menu. Send the header  x-upstream-stats: 1  to see
# how many SCIM calls each one made, under "extensions.upstream" in the answer.

# A page of users with their teams and roles: two upstream calls, whatever the page size.
query UsersWithTeamsAndRoles {
  users(first: 10) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id
        userName
        displayName
        active
        teams(first: 5) { totalCount edges { node { name } } }
        roles(first: 5) { edges { node { name } } }
      }
    }
  }
}

# Teams with their members: a constant number of upstream calls, not one per team.
query TeamsWithMembers {
  teams(first: 5) {
    totalCount
    edges {
      node {
        id
        name
        members(first: 5) { totalCount edges { node { userName displayName } } }
      }
    }
  }
}

# Look a user up by e-mail (case-insensitive), as Keeper's userName is the e-mail address.
query UserByEmail {
  user(userName: "Yusuf.Hoffmann@acme.example") {
    id
    keeperId
    displayName
    emails { value primary }
    active
    teams { edges { node { name } } }
  }
}

# Any object by its global id (any id from another answer; this one is a demo user).
query NodeById {
  node(id: "VXNlcjozNDUwNzQ4NTI0Mjk4NDY=") {
    id
    __typename
    ... on User { userName }
    ... on Team { name }
    ... on Role { name }
  }
}

# Locked users only: Keeper cannot filter on "active", so this scans the node once.
query LockedUsers {
  users(first: 20, filter: { active: false }) {
    totalCount
    edges { node { userName displayName } }
  }
}

# What this service is connected to.
query Upstream {
  upstream {
    baseUrl
    nodeId
    emulated
    rolePrefix
    userCount
    capabilities { orFilters orFiltersSource groupMembers groupMembersSource }
  }
}

# ---- Mutations (they change the demo data; restart the service to reset it) ----
# Each answers a union: select the payload and "... on Error { message }" (or a specific error
# type) to branch on the outcome. clientMutationId is an idempotency key: run OnboardUser twice
# and the second answer is the first one again ("replayed": true), with no second write.

# Invite a user into teams and a role, in one SCIM call.
mutation OnboardUser {
  createUser(input: {
    userName: "ada.lovelace@acme.example"
    displayName: "Ada Lovelace"
    givenName: "Ada"
    familyName: "Lovelace"
    externalId: "idp-ada-lovelace"
    teamIds: ["VGVhbTpNZnRjWFYxa1VVVVZ3LUVpNnBRdjJn"]
    roleIds: ["Um9sZTozNDUwNzQ4NTI0MzAzNjg="]
    clientMutationId: "onboard-ada-lovelace"
  }) {
    __typename
    ... on CreateUserPayload {
      replayed
      user { id keeperId userName active teams { edges { node { name } } } roles { edges { node { name } } } }
    }
    ... on EmailAlreadyInUseError { email }
    ... on InvalidInputError { fields { path message } }
    ... on Error { message }
  }
}

# Lock a leaver: the user keeps its data and seat, and can no longer sign in.
mutation LockLeaver {
  lockUser(input: { id: "VXNlcjozNDUwNzQ4NTI0Mjk4NDc=" }) {
    __typename
    ... on LockUserPayload { user { userName active } }
    ... on Error { message }
  }
}

# Deprovision: Keeper LOCKS the user (state LOCKED, still listed with active false); an upstream
# that really deletes answers state DELETED with user null.
mutation DeprovisionUser {
  deprovisionUser(input: { id: "VXNlcjozNDUwNzQ4NTI0Mjk4NTI=" }) {
    __typename
    ... on DeprovisionUserPayload { state user { userName active } }
    ... on Error { message }
  }
}

# Change only some attributes of a user; null clears givenName, familyName or externalId.
mutation UpdateUser {
  updateUser(input: { id: "VXNlcjozNDUwNzQ4NTI0Mjk4NTE=", displayName: "Liam K." }) {
    __typename
    ... on UpdateUserPayload { user { userName displayName } }
    ... on Error { message }
  }
}

# Create a team with its first members (Keeper queues it until an admin approves it).
mutation CreateTeam {
  createTeam(input: {
    name: "Quantum Lab"
    memberIds: ["VXNlcjozNDUwNzQ4NTI0Mjk4NDk=", "VXNlcjozNDUwNzQ4NTI0Mjk4NTA="]
    clientMutationId: "create-quantum-lab"
  }) {
    __typename
    ... on CreateTeamPayload { team { id name externalId members { totalCount } } }
    ... on Error { message }
  }
}

# Add several users to a team in one SCIM call.
mutation AddTeamMembers {
  addTeamMembers(input: {
    teamId: "VGVhbTpyRkZhQXhwUmJVVHR3N2dZa1RMYmN3"
    userIds: ["VXNlcjozNDUwNzQ4NTI0Mjk4NDk=", "VXNlcjozNDUwNzQ4NTI0Mjk4NTA="]
  }) {
    __typename
    ... on AddTeamMembersPayload { team { name members { totalCount } } }
    ... on NotFoundError { id typename }
    ... on Error { message }
  }
}

# Rename a team.
mutation RenameTeam {
  renameTeam(input: { id: "VGVhbTpyRkZhQXhwUmJVVHR3N2dZa1RMYmN3", name: "Release Captains" }) {
    __typename
    ... on RenameTeamPayload { team { name } }
    ... on Error { message }
  }
}

# Assign a role (named without its prefix in answers) to users.
mutation AssignRole {
  assignRole(input: {
    roleId: "Um9sZTozNDUwNzQ4NTI0MzAzNjc="
    userIds: ["VXNlcjozNDUwNzQ4NTI0Mjk4NDk="]
  }) {
    __typename
    ... on AssignRolePayload { role { name groupName members { totalCount } } }
    ... on Error { message }
  }
}
`;
