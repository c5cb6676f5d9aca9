"""Document text: a ``text`` column on the documents table.

The SNOs keep character spans (offsets) of the sentences their claims and evidence come from; with
the whole text stored beside them, a reader sees each span highlighted in its place in the
document instead of only the spans themselves. The column is written at ingestion.

Rows stored before this migration keep a NULL text (the migration cannot recover a text it never
saw); their pages show the spans alone, as before, until the same document is ingested again.

Revision ID: 0007_document_text
Revises: 0006_job_leases
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007_document_text"
down_revision: str | None = "0006_job_leases"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("text")
