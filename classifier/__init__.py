"""Sequence and text classifiers: pure computation on arrays and strings (no database, no CLI)."""
