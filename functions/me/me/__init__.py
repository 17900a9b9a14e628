"""The personal centre: the caller's profile and avatar, preferences and password."""
