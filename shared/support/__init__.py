"""Support tickets: a tenant's admins raise them, the platform team works them."""
