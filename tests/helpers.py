"""Small helpers the engine tests share."""


def quoted(result) -> str:
    """The evidence of a result, one line, for assertion messages."""
    return " / ".join(f"{e.rule}:{e.label}:{e.text}" for e in result.evidence)
