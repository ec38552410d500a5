"""The embedded engine: SQL storage (SQLite or PostgreSQL), users, the local backend."""
