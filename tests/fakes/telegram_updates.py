"""The test API of the Telegram fake (a mixin of ``FakeTelegram``): chats, members, faults,
pushed updates (messages, commands, membership changes, migrations, poll answers), webhook
delivery, and reading what was sent."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import ClientSession

from tests.fakes.telegram_html import utf16_len
from tests.fakes.telegram_wire import ANONYMOUS_ADMIN_BOT, FAULTS, Fault, SentMessage


class FakeControls:
    """Needs the state attributes ``FakeTelegram.reset`` creates."""

    def add_chat(
        self, chat_id: int, chat_type: str | None = None, title: str | None = None, **extra: Any
    ) -> dict:
        """Make a chat known (done automatically by ``push_*``)."""
        if chat_type is None:
            chat_type = (
                "private"
                if chat_id > 0
                else "supergroup"
                if str(chat_id).startswith("-100")
                else "group"
            )
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = extra.pop("first_name", f"User{chat_id}")
            else:
                chat["title"] = title or f"Group {chat_id}"
            chat.update(extra)
            self.chats[chat_id] = chat
        elif title is not None and chat_type != "private":
            chat["title"] = title
        return chat

    def add_user(
        self,
        user_id: int,
        first_name: str = "Anna",
        *,
        language_code: str | None = "de",
        username: str | None = None,
        is_bot: bool = False,
    ) -> dict:
        user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return user

    def set_admins(
        self, chat_id: int, admin_ids: list[int] | tuple[int, ...] = (), creator: int | None = None
    ) -> None:
        """Configure a chat's administrators (everyone else who wrote there is a member)."""
        self.add_chat(chat_id)
        for key, status in list(self.members.items()):
            if key[0] == chat_id and status in ("creator", "administrator"):
                self.members[key] = "member"
        for user_id in admin_ids:
            self.members[(chat_id, user_id)] = "administrator"
        if creator is not None:
            self.members[(chat_id, creator)] = "creator"

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        self.add_chat(chat_id)
        self.members[(chat_id, user_id)] = status

    def member_status(self, chat_id: int, user_id: int) -> str:
        if user_id == self.bot_id:
            return "left" if chat_id in self.removed else "member"
        chat = self.chats.get(chat_id)
        if chat is not None and chat["type"] == "private" and chat_id == user_id:
            return "member"
        return self.members.get((chat_id, user_id), "left")

    def fail_next(
        self,
        count: int = 1,
        kind: str = "502",
        *,
        chat_id: int | None = None,
        retry_after: int = 1,
        method: str | None = None,
    ) -> None:
        """The next ``count`` sends (to ``chat_id`` or any chat) fail: kinds in ``FAULTS``.
        With ``method`` (e.g. "getUpdates", "setMyCommands") that method fails instead."""
        if kind not in FAULTS:
            raise KeyError(f"unknown fault {kind!r}; one of {sorted(FAULTS)}")
        self.faults.append(
            Fault(kind, count, chat_id, retry_after, method.lower() if method else None)
        )

    def block(self, chat_id: int) -> None:
        """The user blocked the bot / the bot was kicked: all sends there answer 403."""
        chat = self.add_chat(chat_id)
        self.removed[chat_id] = (
            "Forbidden: bot was blocked by the user"
            if chat["type"] == "private"
            else "Forbidden: bot was kicked from the group chat"
        )

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Group ``old_id`` became supergroup ``new_id``: sends to the old id answer 400 + migrate."""
        old = self.add_chat(old_id, "group")
        self.add_chat(new_id, "supergroup", title=old.get("title"))
        self.migrations[old_id] = new_id

    # ----------------------------------------------------------------- test API: updates

    def push_update(self, update: dict) -> dict:
        """Queue a raw update (``update_id`` is assigned) for getUpdates or the webhook."""
        update = {"update_id": next(self._update_ids), **update}
        if self.webhook:
            asyncio.get_running_loop().create_task(self._deliver_webhook(update))
        else:
            self.updates.append(update)
            for poller in self._pollers:
                poller.wake.set()
        return update

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Anna",
        language_code: str | None = "de",
        username: str | None = None,
        chat_type: str | None = None,
        title: str | None = None,
        anonymous_admin: bool = False,
        extra: dict | None = None,
    ) -> dict:
        """A text message from a user (private chat ``chat_id`` = user id unless given)."""
        chat = self.add_chat(chat_id, chat_type, title)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids.setdefault(chat_id, itertools.count(1))),
            "date": int(time.time()),
            "chat": dict(chat),
            "text": text,
        }
        if anonymous_admin:
            message["from"] = dict(ANONYMOUS_ADMIN_BOT)
            message["sender_chat"] = dict(chat)
        else:
            uid = (
                user_id if user_id is not None else (chat_id if chat["type"] == "private" else 1001)
            )
            user = self.add_user(uid, first_name, language_code=language_code, username=username)
            message["from"] = user
            if chat["type"] != "private":
                self.members.setdefault((chat_id, uid), "member")
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0]) if text.strip() else 1
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(text[:length])}
            ]
        message.update(extra or {})
        self.pushed[(chat_id, message["message_id"])] = message
        return self.push_update({"message": message})

    def push_command(
        self,
        chat_id: int,
        command: str,
        args: str = "",
        *,
        mention: bool | str | None = None,
        **kw: Any,
    ) -> dict:
        """``/command[@bot] args``; ``mention`` True adds our username, a string another bot's.

        By default groups get ``@botname`` appended (as Telegram clients do from the menu).
        """
        chat = self.add_chat(chat_id, kw.get("chat_type"), kw.get("title"))
        if mention is None:
            mention = chat["type"] != "private"
        suffix = f"@{self.username}" if mention is True else f"@{mention}" if mention else ""
        text = f"/{command}{suffix}" + (f" {args}" if args else "")
        return self.push_message(chat_id, text, **kw)

    def push_my_chat_member(
        self,
        chat_id: int,
        new_status: str,
        *,
        old_status: str | None = None,
        by_user_id: int = 1001,
        chat_type: str | None = None,
        title: str | None = None,
        language_code: str | None = "de",
    ) -> dict:
        """The bot's own membership changed: "member"/"administrator" (added), "left"/"kicked"."""
        chat = self.add_chat(chat_id, chat_type, title)
        if old_status is None:
            old_status = "left" if new_status in ("member", "administrator") else "member"
        if new_status in ("left", "kicked"):
            self.block(chat_id)
        else:
            self.removed.pop(chat_id, None)
        by = self.users.get(by_user_id) or self.add_user(by_user_id, language_code=language_code)
        update = {
            "my_chat_member": {
                "chat": dict(chat),
                "from": by,
                "date": int(time.time()),
                "old_chat_member": self._member(chat_id, self.bot_id, old_status)
                | {"user": self.me},
                "new_chat_member": self._member(chat_id, self.bot_id, new_status)
                | {"user": self.me},
            }
        }
        return self.push_update(update)

    def push_new_chat_members(
        self,
        chat_id: int,
        members: list[tuple[int, str]],
        *,
        by_user_id: int | None = None,
        chat_type: str | None = None,
        title: str | None = None,
    ) -> dict:
        """People joined a group: the service message Telegram posts (``new_chat_members``;
        ``from`` is whoever added them, or the first of them when they joined by link)."""
        chat = self.add_chat(chat_id, chat_type, title)
        users = [self.users.get(uid) or self.add_user(uid, name) for uid, name in members]
        for uid, _name in members:
            self.members[(chat_id, uid)] = "member"
        by = by_user_id if by_user_id is not None else members[0][0]
        message = {
            "message_id": next(self._message_ids.setdefault(chat_id, itertools.count(1))),
            "date": int(time.time()),
            "chat": dict(chat),
            "from": self.users.get(by) or self.add_user(by),
            "new_chat_members": users,
        }
        return self.push_update({"message": message})

    def push_chat_member(
        self,
        chat_id: int,
        user_id: int,
        new_status: str = "member",
        *,
        old_status: str = "left",
        first_name: str = "Anna",
        chat_type: str | None = None,
    ) -> dict:
        """Someone else's membership changed (``chat_member``: only for bots that administer
        the group and ask for it in ``allowed_updates``)."""
        chat = self.add_chat(chat_id, chat_type)
        user = self.users.get(user_id) or self.add_user(user_id, first_name)
        self.members[(chat_id, user_id)] = new_status
        update = {
            "chat_member": {
                "chat": dict(chat),
                "from": user,
                "date": int(time.time()),
                "old_chat_member": self._member(chat_id, user_id, old_status) | {"user": user},
                "new_chat_member": self._member(chat_id, user_id, new_status) | {"user": user},
            }
        }
        return self.push_update(update)

    def push_poll_answer(self, poll_id: str, user_id: int, option_ids: list[int]) -> dict:
        """A vote in a non-anonymous poll (empty ``option_ids``: vote retracted)."""
        user = self.users.get(user_id) or self.add_user(user_id)
        answer = {
            "poll_id": poll_id,
            "user": user,
            "option_ids": option_ids,
            "option_persistent_ids": [str(i) for i in option_ids],
        }
        return self.push_update({"poll_answer": answer})

    def push_migration(self, old_id: int, new_id: int, *, user_id: int = 1001) -> None:
        """The group became a supergroup: the two service messages Telegram sends, plus 400s."""
        self.migrate_chat(old_id, new_id)
        user = self.users.get(user_id) or self.add_user(user_id)
        old_chat, new_chat = self.chats[old_id], self.chats[new_id]
        now = int(time.time())
        self.push_update(
            {"message": {"message_id": 1, "date": now, "chat": dict(old_chat), "from": user,
                         "migrate_to_chat_id": new_id}}
        )  # fmt: skip
        self.push_update(
            {"message": {"message_id": 1, "date": now, "chat": dict(new_chat),
                         "sender_chat": dict(old_chat), "migrate_from_chat_id": old_id}}
        )  # fmt: skip

    async def _deliver_webhook(self, update: dict) -> None:
        hook = self.webhook
        if hook is None:
            self.updates.append(update)
            return
        if self._client is None:
            self._client = ClientSession()
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
        try:
            async with self._client.post(
                hook["url"], data=json.dumps(update), headers=headers
            ) as resp:
                status = resp.status
        except Exception:
            status = 0
        self.webhook_deliveries.append((update["update_id"], status))
        await self._notify()

    # ----------------------------------------------------------------- test API: reading

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Everything accepted for ``chat_id``, in order."""
        return [s for s in self.sent if s.chat_id == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [s.text for s in self.sent_to(chat_id)]

    def commands_for(
        self, scope: str = "default", language_code: str = "", chat_id: int | None = None
    ) -> list[dict]:
        return self.commands.get((scope, chat_id, None, language_code), [])

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` holds (checked after every successful API call, every
        getUpdates that starts waiting and every webhook delivery)."""

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the Telegram fake did not reach the state the test waits for within {timeout} s"
                f" ({len(self.sent)} messages sent)"
            ) from None

    async def wait_for_sent(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        await self.wait_for(lambda: len(self.sent_to(chat_id)) >= count, timeout)
        return self.sent_to(chat_id)


# --------------------------------------------------------------------- helpers
