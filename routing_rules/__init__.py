"""tsunagu's triage engine: Japanese consultation text in, explained triage result out.

Pure and I/O-free after the rules are loaded: no web, no database.
"""

from routing_rules.directory import UnknownMunicipality, municipality_ids
from routing_rules.engine import triage
from routing_rules.result import Evidence, TriageResult

__all__ = ["Evidence", "TriageResult", "UnknownMunicipality", "municipality_ids", "triage"]
