"""Scheduled work: schedules as data, the tasks they may run, the run ledger, the scheduler daemon and the
child process that runs one task."""
