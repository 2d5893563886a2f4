"""The Telegram fake's message edits, deletions and callback queries (a mixin of
``FakeTelegram``): deleteMessage, editMessageText, editMessageReplyMarkup,
answerCallbackQuery, and ``push_callback_query`` for a user pressing an inline button.

Follows the Bot API: a bot deletes other people's messages in a group only as an administrator
with ``can_delete_messages``; editing to the same text and markup is "message is not
modified"; a callback query must be answered once, within the query's lifetime.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.fakes.telegram_wire import ApiError, bad_request, json_value

_callback_ids = itertools.count(7_000_000)


class EditMethods:
    """Needs the state attributes ``FakeTelegram.reset`` creates, and ``reset_edits``."""

    def reset_edits(self) -> None:
        self.deleted: list[tuple[int, int]] = []
        self.edits: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.open_callbacks: dict[str, dict[str, Any]] = {}
        self.pushed: dict[tuple[int, int], dict[str, Any]] = {}  # user messages by (chat, id)
        self.bot_admin_chats: set[int] = set()

    def let_bot_delete(self, chat_id: int, allowed: bool = True) -> None:
        """Make the bot an administrator with can_delete_messages in a group (or not)."""
        if allowed:
            self.bot_admin_chats.add(chat_id)
        else:
            self.bot_admin_chats.discard(chat_id)

    # ----------------------------------------------------------------- test API

    def push_callback_query(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int,
        first_name: str = "Anna",
        language_code: str | None = "de",
    ) -> dict:
        """A user presses an inline button under the bot's message ``message_id``."""
        sent = self._bot_message(chat_id, message_id)
        if sent is None:
            raise KeyError(f"the bot sent no message {message_id} to {chat_id}")
        chat = self.chats[chat_id]
        user = self.add_user(user_id, first_name, language_code=language_code)
        query_id = str(next(_callback_ids))
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": dict(chat),
            "from": self.me,
            "text": sent.text,
        }
        markup = json_value(sent.params.get("reply_markup"))
        if markup:
            message["reply_markup"] = markup
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(chat_id),
            "data": data,
        }
        self.open_callbacks[query_id] = query
        return self.push_update({"callback_query": query})

    def markup_of(self, chat_id: int, message_id: int) -> dict | None:
        sent = self._bot_message(chat_id, message_id)
        return json_value(sent.params.get("reply_markup")) if sent else None

    def button_texts(self, chat_id: int, message_id: int) -> list[str]:
        markup = self.markup_of(chat_id, message_id) or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]

    # ----------------------------------------------------------------- Bot API

    def _bot_message(self, chat_id: int, message_id: int) -> Any:
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id:
                return sent
        return None

    def _target(self, params: dict) -> tuple[int, int, Any]:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by this fake")
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id") or 0)
        if chat_id in self.removed:
            raise ApiError(403, self.removed[chat_id])
        sent = self._bot_message(chat_id, message_id)
        if sent is None or (chat_id, message_id) in self.deleted:
            raise bad_request("message to edit not found")
        return chat_id, message_id, sent

    async def _m_deletemessage(self, params: dict) -> bool:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id") or 0)
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        key = (chat_id, message_id)
        own = self._bot_message(chat_id, message_id) is not None
        if key in self.deleted or not (own or key in self.pushed):
            raise bad_request("message to delete not found")
        if not own and chat["type"] != "private" and chat_id not in self.bot_admin_chats:
            raise bad_request("message can't be deleted")
        self.deleted.append(key)
        return True

    async def _m_editmessagetext(self, params: dict) -> dict:
        chat_id, message_id, sent = self._target(params)
        text = params.get("text")
        if not text:
            raise bad_request("message text is empty")
        shown, entities = self._formatted(str(text), params.get("parse_mode"), 4096, "text")
        markup = params.get("reply_markup")
        if shown == sent.text and json_value(markup) == json_value(sent.params.get("reply_markup")):
            raise bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        sent.text, sent.raw, sent.entities = shown, str(text), entities
        if markup is not None:
            sent.params["reply_markup"] = markup
        else:
            sent.params.pop("reply_markup", None)
        self.edits.append({"method": "editMessageText", "chat_id": chat_id, "id": message_id})
        return self._message_result(sent, self.chats[chat_id], text=shown)

    async def _m_editmessagereplymarkup(self, params: dict) -> dict:
        chat_id, message_id, sent = self._target(params)
        markup = params.get("reply_markup")
        if json_value(markup) == json_value(sent.params.get("reply_markup")):
            raise bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        if markup is None:
            sent.params.pop("reply_markup", None)
        else:
            sent.params["reply_markup"] = markup
        self.edits.append(
            {"method": "editMessageReplyMarkup", "chat_id": chat_id, "id": message_id}
        )
        return self._message_result(sent, self.chats[chat_id], text=sent.text)

    async def _m_answercallbackquery(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.open_callbacks:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        del self.open_callbacks[query_id]
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers.append(
            {"id": query_id, "text": text, "show_alert": params.get("show_alert")}
        )
        return True
