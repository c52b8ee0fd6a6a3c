"""Presentation: text tables for the terminal now; plots and report writers draw from the same data."""
