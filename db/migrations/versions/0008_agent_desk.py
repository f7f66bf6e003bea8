"""agent desk

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agent_presence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_presence'))
    )
    with op.batch_alter_table('agent_presence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_presence_agent'), ['agent'], unique=False)

    op.create_table('agent_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('caller_channel', sa.String(length=128), nullable=True),
    sa.Column('agent_channel', sa.String(length=128), nullable=True),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], name=op.f('fk_agent_offers_call_id_calls')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_offers')),
    sa.UniqueConstraint('event_id', name=op.f('uq_agent_offers_event_id'))
    )
    with op.batch_alter_table('agent_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_offers_agent'), ['agent'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_offers_call_id'), ['call_id'], unique=False)

    op.create_table('wrap_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disposition', sa.String(length=32), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('arrears_reason', sa.String(length=200), nullable=True),
    sa.Column('follow_up', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], name=op.f('fk_wrap_ups_call_id_calls')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wrap_ups')),
    sa.UniqueConstraint('call_id', 'agent', name='uq_wrap_ups_call_agent')
    )
    with op.batch_alter_table('wrap_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wrap_ups_agent'), ['agent'], unique=False)
        batch_op.create_index(batch_op.f('ix_wrap_ups_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wrap_ups_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('console_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_console_users_agent_id'), ['agent_id'])



def downgrade() -> None:
    with op.batch_alter_table('console_users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_console_users_agent_id'), type_='unique')
        batch_op.drop_column('agent_id')

    with op.batch_alter_table('wrap_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wrap_ups_customer_id'))
        batch_op.drop_index(batch_op.f('ix_wrap_ups_call_id'))
        batch_op.drop_index(batch_op.f('ix_wrap_ups_agent'))

    op.drop_table('wrap_ups')
    with op.batch_alter_table('agent_offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_offers_call_id'))
        batch_op.drop_index(batch_op.f('ix_agent_offers_agent'))

    op.drop_table('agent_offers')
    with op.batch_alter_table('agent_presence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_presence_agent'))

    op.drop_table('agent_presence')
