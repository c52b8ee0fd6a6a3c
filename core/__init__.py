"""What every layer shares and none owns: the errors a user can fix, the settings of one invocation, file
helpers (safe names, atomic writes, output paths checked against the store), limits, time formatting."""
