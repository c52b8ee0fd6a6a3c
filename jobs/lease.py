"""The scheduler lease's timing, kept free of imports so that `--help` reads it at once."""

LEASE_S = 60.0  # a leading scheduler not heard from for this long is replaced by a standby
