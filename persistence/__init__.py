"""Durable storage: every domain's SQLAlchemy models, migrations, engine and sessions, and tenancy."""
