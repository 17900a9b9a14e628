"""The tasks of the tenant onboarding state machine."""
