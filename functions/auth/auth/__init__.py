"""Sign-in: login, refresh, logout, me and the JSON Web Key Set."""
