"""The API's Lambda REQUEST authorizer: token -> tenant, user, session, permissions."""
