"""Initial CNS store: documents, SNOs (+ tombstones, counters, evidence keys, critic results,
lineage), pairs, synthesis attempts and jobs.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
ID = sa.String(128)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("document_id", sa.String(64), primary_key=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("char_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "snos",
        sa.Column("sno_id", ID, primary_key=True),
        sa.Column("document_id", sa.String(64), sa.ForeignKey("documents.document_id"), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("trust", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False, unique=True),
    )
    for column in ("document_id", "content_hash", "trust", "status", "source"):
        op.create_index(f"ix_snos_{column}", "snos", [column])
    op.create_table(
        "sno_tombstones",
        sa.Column("sno_id", ID, primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("deleted_at", TS, nullable=False),
    )
    op.create_table(
        "store_counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(
        sa.table("store_counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger)),
        [{"name": "sno_seq", "value": 0}],
    )
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
    op.create_table(
        "sno_lineage",
        sa.Column("child_id", ID, sa.ForeignKey("snos.sno_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("parent_id", ID, primary_key=True),
    )
    op.create_index("ix_sno_lineage_parent_id", "sno_lineage", ["parent_id"])
    _create_pairs_and_attempts()
    _create_jobs()


def _create_pairs_and_attempts() -> None:
    op.create_table(
        "pairs",
        sa.Column("pair_id", sa.String(64), primary_key=True),
        sa.Column("sno_a", ID, sa.ForeignKey("snos.sno_id", ondelete="CASCADE"), nullable=False),
        sa.Column("sno_b", ID, sa.ForeignKey("snos.sno_id", ondelete="CASCADE"), nullable=False),
        sa.Column("chirality", sa.Float(), nullable=False),
        sa.Column("entanglement", sa.Float(), nullable=False),
        sa.Column("potential", sa.Float(), nullable=False),
        sa.Column("shared", JSON, nullable=False),
        sa.Column("conflicts", JSON, nullable=False),
        sa.Column("found_at", TS, nullable=False),
    )
    for column in ("sno_a", "sno_b", "potential"):
        op.create_index(f"ix_pairs_{column}", "pairs", [column])
    op.create_table(
        "synthesis_attempts",
        sa.Column(
            "pair_id", sa.String(64), sa.ForeignKey("pairs.pair_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("attempt_no", sa.Integer(), primary_key=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.Column("result_sno_id", ID, nullable=True),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("cooldown_until", TS, nullable=True),
    )
    op.create_index("ix_synthesis_attempts_result_sno_id", "synthesis_attempts", ["result_sno_id"])


def _create_jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("deadline", TS, nullable=True),
        sa.UniqueConstraint("idempotency_key", name="uq_jobs_idempotency_key"),
    )
    op.create_index("ix_jobs_kind", "jobs", ["kind"])
    op.create_index("ix_jobs_state", "jobs", ["state"])


def downgrade() -> None:
    for table in (
        "jobs",
        "synthesis_attempts",
        "pairs",
        "sno_lineage",
        "critic_results",
        "evidence_keys",
        "store_counters",
        "sno_tombstones",
        "snos",
        "documents",
    ):
        op.drop_table(table)
