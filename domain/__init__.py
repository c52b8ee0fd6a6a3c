"""What every layer shares and none owns: the errors a user can fix."""
