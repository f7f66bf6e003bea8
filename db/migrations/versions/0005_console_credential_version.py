"""console sessions bound to a credential version

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 04:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('console_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_version', sa.Integer(), nullable=False,
                                      server_default='1'))
    # Sessions from before have version 0: they end, everyone signs in once more.
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_version', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_column('credential_version')
    with op.batch_alter_table('console_users', schema=None) as batch_op:
        batch_op.drop_column('credential_version')
