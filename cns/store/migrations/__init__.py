"""Alembic migrations of the CNS store, shipped inside the package and applied on open.

There is no ``alembic.ini``: :func:`cns.store.sql.migrate.upgrade` builds the Alembic config in
code with ``script_location`` pointing at this folder. To add a revision during development::

    python -m cns.store.sql.migrate revision "add foo"   # writes versions/<rev>_add_foo.py
"""
