"""Click command groups; cli.py assembles them. Each command parses, calls one pipeline, prints."""
