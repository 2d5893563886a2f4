"""The language of a message nobody asked for (news, digests, agendas, poll results, notices).

The same order as replies (``bot.app.App.language_for`` and the router): the chat's own choice
(``/sprache``) first, else German in the form of address of the chat's network (``[[networks]]
anrede``), else ``[bot] language``. A group's network is the one it is enabled in; a private
chat has none of its own, so a caller that knows the network (a subscription's) passes it.
"""

from __future__ import annotations

from sqlmodel import Session

from bot import i18n
from bot.config import Config
from bot.types import ChatRef
from storage import chats, networks


def language_of(
    session: Session, chat: ChatRef | str, config: Config, network_id: int | None = None
) -> str:
    ref = ChatRef.parse(chat)
    chosen = chats.chat_language(session, ref)
    if chosen:
        return chosen
    network = (
        networks.by_id(session, network_id)
        if network_id is not None
        else networks.network_of_chat(session, str(ref))
    )
    return i18n.with_anrede(config.bot.language, network.anrede if network else None)
