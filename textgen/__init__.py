"""Character-level text generation: pure computation on strings and arrays (no database, no CLI)."""
