"""Forecasting models: pure computation on arrays (no database, no CLI, no pyplot)."""
