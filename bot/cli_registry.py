"""Extra ``netzbot`` verbs contributed by capabilities (e.g. ``import-ics``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CliVerb:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]  # args.config holds the --config path


VERBS: dict[str, CliVerb] = {}


def register_verb(verb: CliVerb) -> None:
    VERBS[verb.name] = verb
