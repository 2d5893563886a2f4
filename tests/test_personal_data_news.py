"""Issue 13 item 16: /vergessen forgets news state and first names in kept questions;
/meine_daten lists feeds the person added and news queued for them."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Config
from jobs import digest as digest_job
from jobs import feeds as feeds_job
from storage import chats, subscriptions
from storage.db import Store
from tests.feedserver import FeedServer, rss
from tests.support import NET, make_app
from tests.test_news_jobs import T0, item, job_context, outbox
from tests.test_personal_data import values_mentioning

ERIKA = "telegram:4242"
NAME = "Erika Mustermann"
GROUP = "telegram:-1001"


async def test_forget_takes_news_state_and_names_with_it(store: Store) -> None:
    # Only owners follow feeds in a private chat.
    config = Config(bot={"owners": [ERIKA]}, news={"allow_private_addresses": True})
    async with make_app(store, T0, config, platform="telegram") as h:
        erika = {"chat": ERIKA, "sender": ERIKA, "name": NAME}
        async with FeedServer() as server:
            server.route("/f.xml", rss([item(n) for n in range(3)]))
            server.route("/g.xml", rss([item(n + 10) for n in range(2)]))
            added = await h.say(
                f"/feed_neu {server.url('/f.xml')} modus=digest", admin=True, **erika
            )
            assert "Meldung" in added or "Feed" in added, added
            await h.say(f"/feed_neu {server.url('/g.xml')}", chat=GROUP, sender=ERIKA, admin=True)
            with store.session() as session:
                subscriptions.subscribe(
                    session,
                    chats.ChatRef.parse(ERIKA),
                    "news",
                    T0,
                    options={"mode": "digest"},
                    network_id=NET,
                )
            await feeds_job.poll_feeds(job_context(store, config), T0)
        assert values_mentioning(store, ERIKA)

        mine = await h.say("/meine_daten", **erika)
        assert "in deinem privaten Chat" in mine and "von dir hinzugefügt" in mine, mine
        assert "warten auf deine nächste Zusammenfassung" in mine, mine

        await h.say(
            "/frage Erika möchte wissen, ob es weitergeht", chat=GROUP, sender=ERIKA, name=NAME
        )
        await h.say("/plus 1", chat=GROUP, sender="telegram:77", name="Otto")
        assert "gelöscht" in await h.say("/vergessen ja", **erika)

        assert values_mentioning(store, ERIKA, "Erika", "Mustermann") == []
        await digest_job.send_digests(job_context(store, config), T0 + timedelta(days=1))
        assert outbox(store, ERIKA) == []  # a forgotten person gets no digest
        assert "Meldung" in await h.say("/news", chat=GROUP)  # the group keeps its feed
