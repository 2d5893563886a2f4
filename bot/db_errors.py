"""A database that cannot be used at start-up, said in words an operator can act on.

A corrupt SQLite file or a PostgreSQL server that is down used to end ``netzbot`` with a raw
traceback. The CLI turns those errors into one paragraph and exit code 3; a database that goes
away while netzbot runs is handled where it is used (jobs and the delivery worker retry).
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

EXIT_DATABASE = 3

_DAMAGED = ("file is not a database", "malformed", "disk image", "not a database")


def is_database_error(exc: BaseException) -> bool:
    """SQLAlchemy's wrapped driver errors, and the drivers' own when raised unwrapped."""
    if isinstance(exc, DBAPIError):
        return True
    module = type(exc).__module__
    return module.startswith(("sqlite3", "psycopg")) and isinstance(exc, Exception)


def safe_url(url: str) -> str:
    """The storage URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable [storage] url)"


def describe(exc: BaseException, url: str) -> str:
    """What is wrong with the database and what to do, without secrets or a traceback."""
    original = getattr(exc, "orig", None) or exc
    detail = str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
    where = safe_url(url)
    password = make_url(url).password if url.startswith("postgres") else None
    if password:
        detail = detail.replace(str(password), "***")
    if url.startswith("sqlite"):
        if any(words in detail.lower() for words in _DAMAGED):
            return (
                f"the SQLite database {where} is damaged or not a netzbot database ({detail}). "
                "Restore it from a backup (netzbot restore FILE) or move the file aside to "
                "start with an empty one."
            )
        return f"the SQLite database {where} cannot be used ({detail})."
    if "connect" in detail.lower() or "refused" in detail.lower() or "timeout" in detail.lower():
        return (
            f"cannot reach the database at {where} ({detail}). Is PostgreSQL running and "
            "reachable from here? Check [storage] url (or NETZBOT_STORAGE__URL)."
        )
    return f"the database at {where} refused to work ({detail})."
