"""POST /api/v1/triage: classify one consultation text and say where it goes.

The text is personal data: it is never logged, and no error message repeats it.
"""

from fastapi import APIRouter

from api.errors import ApiError
from api.schemas import MAX_TEXT_CHARS, ErrorOut, TriageRequest, TriageResponse
from routing_rules import triage

router = APIRouter(tags=["triage"])


def _check_text(text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:  # characters (code points), not UTF-8 bytes
        raise ApiError(
            413,
            "text_too_long",
            f"text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}.",
        )
    if not text.strip():
        raise ApiError(422, "text_empty", "text is empty or only whitespace.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON's \ud800 escapes can smuggle in lone surrogates, which nothing downstream
        # (the tokenizer, the JSON answer) can encode.
        raise ApiError(
            422, "text_invalid", "text contains unpaired surrogate code points."
        ) from None


@router.post(
    "/triage",
    response_model=TriageResponse,
    responses={
        404: {"model": ErrorOut, "description": "Unknown municipality"},
        413: {"model": ErrorOut, "description": "Text over the character limit"},
        422: {"model": ErrorOut, "description": "Empty text or malformed request"},
    },
)
def triage_text(request: TriageRequest) -> TriageResponse:
    # A plain `def`: triage is CPU-bound, so FastAPI runs it in its thread pool.
    _check_text(request.text)
    area = request.area.strip() if request.area else None
    result = triage(request.text, request.municipality, area or None)  # unknown town: 404
    return TriageResponse.model_validate(result.to_dict())
