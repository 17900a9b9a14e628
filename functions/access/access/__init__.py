"""Access control: the permission catalogue, roles, the role-permission matrix, user roles, explain."""
