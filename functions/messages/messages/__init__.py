"""Messages: channel configs, message templates, pushes to people and their per-channel counts."""
