"""Storage: the tables, engine and sessions, migrations, and query functions (session first, never commit)."""
