"""YAML reading for banks, standards, schemes and rules: libyaml's parser when PyYAML has it.

The pure-Python parser took a quarter of loading the catalog and a bank (a few seconds per test
database and per import); libyaml reads the same documents into the same values, about ten
times faster. Both refuse anything but plain data (the safe loader).
"""

from __future__ import annotations

from typing import Any

import yaml

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """The plain data of one YAML document, like ``yaml.safe_load``."""
    return yaml.load(text, Loader=_Loader)
