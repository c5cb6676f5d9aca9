"""Job leases: ``lease_token``, ``lease_owner`` and ``lease_expires_at`` on the job table.

A running job holds a lease that its worker renews every few seconds; when the worker dies the
lease runs out and the reconciler hands the job to another worker within seconds, instead of
waiting for the job deadline or the broker's visibility timeout. Every claim raises the job's
``lease_token``, and a worker's final write carries the token it claimed with: a worker that was
only slow and lost its lease finds a newer token and its write is refused.

Rows written before this migration get token 0 and no lease; the reconciler still recovers
such a row through the job deadline, as before.

Revision ID: 0006_job_leases
Revises: 0005_drop_derived_rows
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_job_leases"
down_revision: str | None = "0005_drop_derived_rows"
branch_labels: str | None = None
depends_on: str | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lease_token", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_owner", sa.String(255), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
        batch.drop_column("lease_token")
