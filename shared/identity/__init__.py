"""Identity: Clerk tokens, principals, tenants, users and memberships."""
