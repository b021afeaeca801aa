"""Storage beneath the application: eventsourcing's recorders, extended with a hash chain over the log.

Only `api/` may import this package; `domain/` and `projections/` see the plain eventsourcing
recorder interfaces and never know the chain is there.
"""
