"""Revision files; Alembic skips ``__init__`` when it scans this folder."""
