"""API key scopes and document ownership.

A key has a scope (``read`` < ``write`` < ``admin``); keys created before scopes existed keep the
rights they had (``write``). A document remembers the key that first submitted it, so another
key can neither delete it nor rewrite its source and metadata.

Revision ID: 0003_key_scopes_and_owners
Revises: 0002_api_keys
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_key_scopes_and_owners"
down_revision: str | None = "0002_api_keys"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scope", sa.String(16), nullable=False, server_default="write"))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("owner_key_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("owner_key_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("scope")
