"""Users, groups, permissions, API keys, passwords, login, CSRF."""
