"""Read models rebuilt from the event log: each writes its rows and its tracking position in one transaction.

Imports domain; never api.
"""
