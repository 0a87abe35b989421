"""Persistence: models, the async engine and session factory, queries and migrations."""
