"""Outgoing network access for everything the bot fetches on behalf of a URL it was given.

- ``guard``: which addresses may be reached (SSRF protection), enforced in the resolver;
- ``http``: guarded GETs (URL vetted, every redirect hop checked, body size bounded);
- ``errors``: the typed failures, explained in the chat's language by their ``code``.
"""
