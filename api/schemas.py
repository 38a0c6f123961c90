"""Request and response bodies of the HTTP API (pydantic), apart from the engine's records."""

from pydantic import BaseModel, Field

# A consultation longer than this is not a chat message; 413 rather than a slow triage.
MAX_TEXT_CHARS = 20_000


class TriageRequest(BaseModel):
    text: str = Field(
        description=f"The consultation text, 1 to {MAX_TEXT_CHARS:,} characters, not blank.",
        examples=["母が認知症で、息子はずっと家にこもっています"],
    )
    municipality: str = Field(description="Municipality id, e.g. atsuma or tomiya.")
    area: str | None = Field(
        default=None, description="Catchment area (地区) of the resident, if known."
    )


class BodyOut(BaseModel):
    id: str
    name: str


class EmergencyLineOut(BaseModel):
    id: str
    name: str
    number: str


class EvidenceOut(BaseModel):
    rule: str
    label: str
    description: str
    text: str
    start: int = Field(description="Offset in the submitted text (characters).")
    end: int


class TriageResponse(BaseModel):
    domains: list[str]
    patterns: list[str]
    compound: bool
    urgent: bool
    route: str
    body: BodyOut
    involved: list[BodyOut]
    emergency: list[EmergencyLineOut]
    evidence: list[EvidenceOut]
    urgent_reasons: list[str]
    municipality: str
    area: str | None
    rules_version: str


class ErrorOut(BaseModel):
    """Every 4xx answer: a stable machine-readable code and a message for people."""

    code: str
    message: str
    known_municipalities: list[str] | None = None
    errors: list[dict[str, object]] | None = None
    current_status: str | None = None  # the state that refused a transition
