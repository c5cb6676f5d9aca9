"""Stored pairs keep their opposition term, their source and their evidence matches.

Before, a pair read back from the store (``GET /pairs``, ``cns export``, a synthesis of a stored
pair) had lost what the search said about it beyond the three scores. Existing rows get the
values every pair had before the opposition search existed: opposition 0, source ``evidence``,
no evidence matches (the next pair search that finds them again fills them in).

Revision ID: 0004_pair_details
Revises: 0003_key_scopes_and_owners
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_pair_details"
down_revision: str | None = "0003_key_scopes_and_owners"
branch_labels: str | None = None
depends_on: str | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("pairs") as batch:
        batch.add_column(sa.Column("opposition", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="evidence"))
        batch.add_column(sa.Column("evidence_matches", JSON, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("pairs") as batch:
        batch.drop_column("evidence_matches")
        batch.drop_column("source")
        batch.drop_column("opposition")
