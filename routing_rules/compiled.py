"""The engine's modules compiled to C by mypyc: the same code, about 1.5 times as fast.

`make compile` (scripts/compile-triage) builds them into build/mypyc, never tracked. The
package runs them only when they were built from exactly the sources beside this file by
this Python; otherwise it runs the sources: the same results, more slowly. So an edited
module can never be shadowed by a stale build, and .venv-rasa (Python 3.10) always runs
the sources. TSUNAGU_PURE_PYTHON=1 runs the sources even when a fresh build exists.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

# Everything triage() runs; this module finds the files, so its own path must be true.
MODULES = ("text", "lexicon", "scope", "people", "result", "rules", "directory", "engine")
PACKAGE_DIR = Path(__file__).parent
BUILD_DIR = PACKAGE_DIR.parent / "build" / "mypyc"
# mypyc's shared runtime for the group: a top-level module each compiled module imports.
GROUP = "routing_rules_native"
STAMP = BUILD_DIR / "routing_rules" / "SOURCES"


def source_digest() -> str:
    """What a build is valid for: the compiled modules' sources and the Python's version."""
    digest = hashlib.sha256(sys.version.encode())
    for name in MODULES:
        digest.update((PACKAGE_DIR / f"{name}.py").read_bytes())
    return digest.hexdigest()


def is_fresh() -> bool:
    try:
        return STAMP.read_text().strip() == source_digest()
    except OSError:
        return False


def activate(package_path: list[str]) -> bool:
    """Put a fresh build ahead of the sources on the package's path; True when it is used."""
    if os.environ.get("TSUNAGU_PURE_PYTHON") == "1" or not is_fresh():
        return False
    name = f"{GROUP}__mypyc"
    library = next(BUILD_DIR.glob(f"{name}.*"), None)
    spec = library and importlib.util.spec_from_file_location(name, library)
    if not spec or spec.loader is None:
        return False
    runtime = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runtime)
    sys.modules[name] = runtime
    package_path.insert(0, str(BUILD_DIR / "routing_rules"))
    return True
