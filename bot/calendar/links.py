"""Find the video-call link of a meeting in the places calendar programs put it."""

from __future__ import annotations

import re

_URL = re.compile(r"https?://[^\s<>\"'\\]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>"
VIDEO_HOSTS = (
    "meet.jit.si",
    "jitsi",
    "zoom.us",
    "teams.microsoft.com",
    "teams.live.com",
    "meet.google.com",
    "webex.com",
    "bigbluebutton",
    "bbb.",
    "senfcall",
    "whereby.com",
    "gotomeeting",
    "/call/",  # Nextcloud Talk
    "matrix.to",
    "meet.",
)
# Properties in which Google and Outlook put the conference link.
CONFERENCE_PROPERTIES = (
    "X-GOOGLE-CONFERENCE",
    "X-MICROSOFT-SKYPETEAMSMEETINGURL",
    "X-MICROSOFT-ONLINEMEETINGCONFLINK",
    "CONFERENCE",
)


def urls_in(text: str | None) -> list[str]:
    """Every http(s) URL in ``text``, without trailing punctuation."""
    found = []
    for match in _URL.finditer(text or ""):
        url = match.group(0).rstrip(_TRAILING)
        if len(url) > len("https://"):
            found.append(url)
    return found


def is_video_link(url: str) -> bool:
    lowered = url.lower()
    return any(host in lowered for host in VIDEO_HOSTS)


def find_link(
    url: str | None = None,
    location: str | None = None,
    description: str | None = None,
    conference: str | None = None,
) -> str | None:
    """The best link for a meeting: URL property, conference property, a URL in LOCATION,
    then a video-call link in DESCRIPTION (other links there are often agendas or flyers)."""
    for candidate in (url, conference):
        if candidate and (found := urls_in(candidate)):
            return found[0]
    if found := urls_in(location):
        return found[0]
    for candidate in urls_in(description):
        if is_video_link(candidate):
            return candidate
    return None
