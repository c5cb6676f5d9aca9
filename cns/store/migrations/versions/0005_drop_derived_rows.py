"""Drop ``evidence_keys`` and ``critic_results``: rows written on every save that nothing read.

Both tables repeated what the SNO's JSON in ``snos.data`` already holds (its evidence keys, its
critics' scores), one row per key and per critic, rewritten on every store of the SNO. No
reader used them: the pair search builds its own inverted index from the population, and every
report, API route and CLI command reads the scores from the SNO. Dropping them makes each save
one INSERT shorter per SNO and removes a way for the copies to disagree.

Downgrading recreates the two tables empty: the release that wrote them wrote them again on the
next store of each SNO, and never read them back.

Revision ID: 0005_drop_derived_rows
Revises: 0004_pair_details
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_drop_derived_rows"
down_revision: str | None = "0004_pair_details"
branch_labels: str | None = None
depends_on: str | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
ID = sa.String(128)


def upgrade() -> None:
    op.drop_index("ix_evidence_keys_key", table_name="evidence_keys")
    op.drop_table("evidence_keys")
    op.drop_table("critic_results")


def downgrade() -> None:
    op.create_table(
        "evidence_keys",
        sa.Column("sno_id", ID, sa.ForeignKey("snos.sno_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
    )
    op.create_index("ix_evidence_keys_key", "evidence_keys", ["key"])
    op.create_table(
        "critic_results",
        sa.Column("sno_id", ID, sa.ForeignKey("snos.sno_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("critic", sa.String(64), primary_key=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("models", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
