"""Storage: SQLAlchemy models, engine and session setup, ingest parsing and validation, query functions."""
