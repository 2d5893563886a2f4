"""SQLModel tables, one module per aggregate. Importing this package registers them all."""

from __future__ import annotations

import importlib
import pkgutil

from sqlmodel import SQLModel

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")

metadata = SQLModel.metadata
