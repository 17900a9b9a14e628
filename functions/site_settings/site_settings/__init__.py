"""Site settings: a tenant's branding, login page, language and time zone, password policy and session length."""
