"""The pure model of the diplomatic record: aggregates, their events, rules and the command service.

Imports eventsourcing and the standard library only; never FastAPI, SQL or HTTP.
"""
