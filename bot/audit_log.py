"""Recording admin actions (``storage.audit``) from a handler's context."""

from __future__ import annotations

import logging
from types import EllipsisType
from typing import TYPE_CHECKING

from storage import audit

if TYPE_CHECKING:
    from bot.commands import Command
    from bot.context import Context

log = logging.getLogger(__name__)


def record(
    ctx: Context, action: str, detail: str, *, network_id: int | EllipsisType | None = ...
) -> None:
    """Who (the account), which network (the message's unless given), what, when."""
    if network_id is ...:
        network_id = ctx.network.id if ctx.network is not None else None
    try:
        with ctx.store.session() as session:
            audit.record(
                session,
                network_id=network_id,
                actor_ref=str(ctx.sender.ref),
                action=action,
                detail=detail,
                chat_ref=str(ctx.chat),
                now=ctx.now,
            )
    except Exception:  # the action itself is done; a lost log line must not undo it
        log.exception("audit entry not written action=%s", action)


# Admin commands that only read: not worth a line in the log.
READ_ONLY = frozenset({"protokoll", "feed_test", "gruppen"})


def is_admin_action(ctx: Context, cmd: Command) -> bool:
    """An admin command, or a command whose handler relied on admin rights (a group setting
    such as /sprache, /erinnerung or /abo typed in a group)."""
    from bot.types import Permission

    if cmd.name in READ_ONLY:
        return False
    return cmd.permission in (Permission.ADMIN, Permission.OWNER) or ctx.acted_as_admin


def command_done(ctx: Context, cmd: Command) -> None:
    """The router calls this after an admin command succeeded."""
    record(ctx, cmd.name, ctx.incoming.text)
