// The document GraphiQL opens with: working example operations over the demo data
// (design.md: "GraphiQL opens with working example operations"). Each runs as it is.

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
`;
