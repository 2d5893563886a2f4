"""What each platform can do: code asks for a capability, never for a platform name.

The vocabulary (``Capability``) and the one table of which platform has which. A connector
exposes its row as ``Connector.capabilities`` (``bot.connectors.*``); handlers read the row of
the chat they answer in (``ctx.capabilities``) and ask ``capabilities.of(chat)`` about any other
chat; jobs ask ``capabilities.of(chat)`` too. The table lives here rather than in the connector
modules so that handlers, jobs and ``bot.mail`` can ask without importing a messenger library.

A new platform: one row here, one module in ``bot/connectors/``, one fake in ``tests/fakes/``.
"""

from __future__ import annotations

from enum import StrEnum

from bot.types import ChatRef


class Capability(StrEnum):
    NATIVE_POLLS = "native_polls"  # Reply.poll is posted as the platform's own poll
    INLINE_BUTTONS = "inline_buttons"  # Reply.buttons under a message, pressed -> button_pressed
    REACTIONS = "reactions"  # emoji reactions to our messages reach the app (reaction hook)
    ATTACHMENTS = "attachments"  # files (.ics, charts) go with a message
    DELETE_MESSAGES = (
        "delete_messages"  # the bot may delete a member's message (Reply.delete_incoming)
    )
    PRIVATE_MESSAGES = "private_messages"  # the bot may write first to a member privately
    GROUPS = "groups"  # chats with several people that a network can enable (and the bot leave)
    SUBJECT = "subject"  # a message has a subject line and a footer (e-mail, mailing lists)
    BANG_COMMANDS = "bang_commands"  # no command menu and an awkward '/': tell people about '!'
    NUMBER_ALIASES = "number_aliases"  # people are stable ids; a phone number is learnt as alias


PLATFORM_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "telegram": frozenset(
        {
            Capability.NATIVE_POLLS,
            Capability.INLINE_BUTTONS,
            Capability.DELETE_MESSAGES,
            Capability.ATTACHMENTS,
            Capability.GROUPS,
        }
    ),
    # a bot may write to anyone's private chat on Signal; polls are native where the service
    # has them (signal_outgoing falls back to numbered options as text)
    "signal": frozenset(
        {
            Capability.NATIVE_POLLS,
            Capability.REACTIONS,
            Capability.PRIVATE_MESSAGES,
            Capability.ATTACHMENTS,
            Capability.GROUPS,
            Capability.BANG_COMMANDS,
            Capability.NUMBER_ALIASES,
        }
    ),
    "email": frozenset({Capability.ATTACHMENTS, Capability.SUBJECT}),
    "console": frozenset(),
}


def of_platform(platform: str) -> frozenset[Capability]:
    """The capabilities of ``platform`` (none for a platform nobody declared)."""
    return PLATFORM_CAPABILITIES.get(platform, frozenset())


def of(chat: ChatRef) -> frozenset[Capability]:
    """The capabilities of the platform ``chat`` lives on."""
    return of_platform(chat.platform)


def has(chat: ChatRef, capability: Capability) -> bool:
    return capability in of(chat)
