"""The use cases the CLI, the scheduler and the tests call (ingest, train, forecast, sample, classify,
report, catalog, store): functions of settings and plain arguments, composing compute and storage."""
