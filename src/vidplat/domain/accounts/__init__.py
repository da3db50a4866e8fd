"""Organizations, users, sessions and login."""
