"""The Bot API methods of the Telegram fake other than the send methods (a mixin of
``FakeTelegram``): getMe, webhooks, getUpdates long polling, command menus, chats and members."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from tests.fakes.telegram_wire import (
    ADMIN_RIGHTS,
    GIFT_TYPES,
    RESTRICTED_RIGHTS,
    ApiError,
    Poller,
    bad_request,
    json_value,
    truthy,
    update_kind,
)

_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiMethods:
    """Needs the state attributes ``FakeTelegram.reset`` creates."""

    async def _m_getme(self, params: dict) -> dict:
        return self.me

    async def _m_logout(self, params: dict) -> bool:
        return True

    async def _m_close(self, params: dict) -> bool:
        return True

    async def _m_deletewebhook(self, params: dict) -> bool:
        if truthy(params.get("drop_pending_updates", False)):
            self.updates.clear()
        self.webhook = None
        return True

    async def _m_setwebhook(self, params: dict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if truthy(params.get("drop_pending_updates", False)):
            self.updates.clear()
        self.webhook = {"url": url, "secret_token": secret}
        for poller in self._pollers:
            poller.terminated = True
            poller.wake.set()
        pending, self.updates = self.updates, []
        for update in pending:
            asyncio.get_running_loop().create_task(self._deliver_webhook(update))
        return True

    async def _m_getwebhookinfo(self, params: dict) -> dict:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    async def _m_getupdates(self, params: dict) -> list[dict]:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        for other in self._pollers:  # a newer request terminates the pending one
            other.terminated = True
            other.wake.set()
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        if not self.updates and timeout > 0:
            poller = Poller()
            self._pollers.append(poller)
            await self._notify()
            try:
                await asyncio.wait_for(poller.wake.wait(), timeout)
            except TimeoutError:
                pass
            finally:
                self._pollers.remove(poller)
            if poller.terminated:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        allowed = json_value(params.get("allowed_updates"))
        batch = [u for u in self.updates if not allowed or update_kind(u) in allowed]
        return batch[:limit]

    async def _m_setmycommands(self, params: dict) -> bool:
        commands = json_value(params.get("commands"))
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for item in commands:
            if not _COMMAND_NAME.match(str(item.get("command", "")).removeprefix("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(item.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        self.commands[key] = [
            {"command": str(c["command"]).removeprefix("/"), "description": c["description"]}
            for c in commands
        ]
        if not commands:
            self.commands.pop(key, None)
        return True

    async def _m_getmycommands(self, params: dict) -> list[dict]:
        return self.commands.get(self._commands_key(params), [])

    async def _m_deletemycommands(self, params: dict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: dict) -> tuple[str, int | None, int | None, str]:
        scope = json_value(params.get("scope")) or {"type": "default"}
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        kind = scope.get("type", "default")
        if kind not in {
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        }:
            raise bad_request("wrong bot command scope type specified")
        chat = int(scope["chat_id"]) if "chat_id" in scope else None
        user = int(scope["user_id"]) if "user_id" in scope else None
        return kind, chat, user, language

    async def _m_getchat(self, params: dict) -> dict:
        chat_id = self._chat_id(params)
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        gifts = dict.fromkeys(GIFT_TYPES, False)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _m_getchatmember(self, params: dict) -> dict:
        chat_id = self._chat_id(params)
        if chat_id in self.removed or chat_id not in self.chats:
            raise bad_request("chat not found")
        user_id = int(params.get("user_id") or 0)
        if user_id == 0:
            raise bad_request("user not found")
        return self._member(chat_id, user_id, self.member_status(chat_id, user_id))

    async def _m_getchatadministrators(self, params: dict) -> list[dict]:
        chat_id = self._chat_id(params)
        chat = self.chats.get(chat_id)
        if chat is None or chat_id in self.removed:
            raise bad_request("chat not found")
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        return [
            self._member(chat_id, user_id, status)
            for (cid, user_id), status in self.members.items()
            if cid == chat_id and status in ("creator", "administrator")
        ]

    async def _m_leavechat(self, params: dict) -> bool:
        """The bot leaves a group; like Telegram, a ``my_chat_member`` update (from the bot
        itself, new status "left") follows, and sends there answer 403 from now on."""
        chat_id = self._chat_id(params)
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat["type"] == "private":
            raise bad_request("chat member status can't be changed in private chats")
        if chat_id in self.removed:
            raise ApiError(403, "Forbidden: bot is not a member of the group chat")
        self.left_chats.append(chat_id)
        update = {
            "my_chat_member": {
                "chat": dict(chat),
                "from": self.me,
                "date": int(time.time()),
                "old_chat_member": self._member(chat_id, self.bot_id, "member") | {"user": self.me},
                "new_chat_member": self._member(chat_id, self.bot_id, "left") | {"user": self.me},
            }
        }
        self.block(chat_id)
        self.push_update(update)
        return True

    def _member(self, chat_id: int, user_id: int, status: str) -> dict:
        user = self.users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
        }
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                dict.fromkeys(ADMIN_RIGHTS, True),
                can_be_edited=False,
                is_anonymous=False,
                can_promote_members=False,
            )
        elif status == "restricted":
            member.update(
                dict.fromkeys(RESTRICTED_RIGHTS, False),
                is_member=True,
                until_date=0,
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member
