"""Invitations: codes with an expiry and a maximum number of uses; registration with a valid code."""
