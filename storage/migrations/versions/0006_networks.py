"""Networks: tables ``network`` and ``network_chat``, ``network_id`` on every user-data table.

An existing database becomes one network (key ``netzwerk``, marked adoptable: the first
configured network without a row of its own takes it over at start-up, see
``storage.networks.sync_from_config``), every row is given to it, and every group the bot
already serves (active group chats) is enabled in it, so no group goes silent at the upgrade.

Revision ID: 0006_networks
Revises: 0007_people
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_networks"
down_revision = "0007_people"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
DEFAULT_KEY = "netzwerk"
SCOPED_TABLES = ("meeting_series", "document", "question", "poll", "feed_target", "subscription")


def _now(bind: sa.engine.Connection) -> datetime:
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now


def upgrade() -> None:
    op.create_table(
        "network",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("join_url", sa.String(1000), nullable=True),
        sa.Column("anrede", sa.String(10), nullable=True),
        sa.Column("in_config", sa.Boolean(), nullable=False),
        sa.Column("adoptable", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "network_chat",
        sa.Column("chat_ref", sa.String(200), primary_key=True),
        sa.Column(
            "network_id",
            sa.Integer(),
            sa.ForeignKey("network.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("enabled_by", sa.String(200), nullable=True),
        sa.Column("enabled_at", TS, nullable=False),
    )
    op.create_index("ix_network_chat_network_id", "network_chat", ["network_id"])

    bind = op.get_bind()
    now = _now(bind)
    network = sa.table(
        "network",
        sa.column("id", sa.Integer()),
        sa.column("key", sa.String()),
        sa.column("name", sa.String()),
        sa.column("in_config", sa.Boolean()),
        sa.column("adoptable", sa.Boolean()),
        sa.column("created_at", TS),
        sa.column("updated_at", TS),
    )
    bind.execute(
        network.insert().values(
            key=DEFAULT_KEY,
            name="netzbot",
            in_config=True,
            adoptable=True,
            created_at=now,
            updated_at=now,
        )
    )
    network_id = bind.execute(
        sa.select(network.c.id).where(network.c.key == DEFAULT_KEY)
    ).scalar_one()
    bind.execute(
        sa.text(
            "INSERT INTO network_chat (chat_ref, network_id, source, enabled_by, enabled_at) "
            "SELECT ref, :network_id, 'chat', 'upgrade', :now FROM chat "
            "WHERE is_group = :yes AND active = :yes"
        ),
        {"network_id": network_id, "now": now, "yes": True},
    )

    for table in SCOPED_TABLES:
        op.add_column(table, sa.Column("network_id", sa.Integer(), nullable=True))
        bind.execute(sa.text(f"UPDATE {table} SET network_id = :id"), {"id": network_id})
        with op.batch_alter_table(table) as batch:
            batch.alter_column("network_id", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(f"fk_{table}_network_id", "network", ["network_id"], ["id"])
            batch.create_index(f"ix_{table}_network_id", ["network_id"])
            if table == "subscription":
                batch.drop_constraint("uq_subscription_chat_kind", type_="unique")
                batch.create_unique_constraint(
                    "uq_subscription_chat_kind_network", ["chat_ref", "kind", "network_id"]
                )


def downgrade() -> None:
    for table in SCOPED_TABLES:
        with op.batch_alter_table(table) as batch:
            if table == "subscription":
                batch.drop_constraint("uq_subscription_chat_kind_network", type_="unique")
                batch.create_unique_constraint("uq_subscription_chat_kind", ["chat_ref", "kind"])
            batch.drop_index(f"ix_{table}_network_id")
            batch.drop_constraint(f"fk_{table}_network_id", type_="foreignkey")
            batch.drop_column("network_id")
    op.drop_index("ix_network_chat_network_id", table_name="network_chat")
    op.drop_table("network_chat")
    op.drop_table("network")
