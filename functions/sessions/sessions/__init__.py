"""Sessions and the login log: who signed in (and who failed), who is online, force sign-out."""
