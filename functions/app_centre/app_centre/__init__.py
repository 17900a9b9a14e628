"""App centre: the platform's apps, and which of them a tenant has switched on or off."""
