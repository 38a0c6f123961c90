"""tsunagu's triage engine: Japanese consultation text in, explained triage result out.

Pure and I/O-free after the rules are loaded: no web, no database.
"""

from routing_rules import compiled

# Before any submodule loads: a fresh mypyc build of the engine's modules takes their place.
COMPILED = compiled.activate(__path__)

from routing_rules.directory import UnknownMunicipality, municipality_ids  # noqa: E402
from routing_rules.engine import triage  # noqa: E402
from routing_rules.result import Evidence, TriageResult  # noqa: E402

__all__ = [
    "COMPILED",
    "Evidence",
    "TriageResult",
    "UnknownMunicipality",
    "municipality_ids",
    "triage",
]
