"""Who someone is in a network: the order is the point (``role >= Role.ADMIN``)."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    OUTSIDER = 0  # a private chat of someone in no network (or a group of no network)
    MEMBER = 1  # in one of the network's enabled groups
    ADMIN = 2  # listed in the network's ``admins``, or an admin of one of its enabled groups
    OWNER = 3  # ``[bot] owners`` and the console user: everything, every network
