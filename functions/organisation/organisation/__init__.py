"""The organisation of a tenant: the department tree and the positions of its departments."""
