"""Pipelines (ingest, train, forecast, sample, report) as functions of settings and plain arguments,
shared by the CLI, the scheduler and the tests; and the scheduler with its run ledger."""
