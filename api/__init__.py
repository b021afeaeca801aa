"""The FastAPI app, its routes and schemas, settings, and the `diplo` command line."""
