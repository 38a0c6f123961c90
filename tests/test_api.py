"""POST /api/v1/triage: a good answer carries the SPEC fields; every bad request is a clear 4xx."""

import json

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.schemas import MAX_TEXT_CHARS
from routing_rules import municipality_ids, triage
from routing_rules.result import DOMAINS, PATTERNS, ROUTES

URL = "/api/v1/triage"
TEXT = "母が認知症で、50代の息子は仕事をやめてからずっと家にこもっています"
RESULT_FIELDS = {
    "domains",
    "patterns",
    "compound",
    "urgent",
    "route",
    "body",
    "involved",
    "emergency",
    "evidence",
    "urgent_reasons",
    "municipality",
    "area",
    "rules_version",
}


@pytest.fixture(scope="module")
def client():
    # raise_server_exceptions=False: a bug must show up as the 500 a client would get.
    return TestClient(create_app(), raise_server_exceptions=False)


def post_raw(client, content: bytes):
    return client.post(URL, content=content, headers={"content-type": "application/json"})


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_good_request_returns_the_spec_fields(client):
    response = client.post(URL, json={"text": TEXT, "municipality": "atsuma"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == RESULT_FIELDS
    assert set(body["domains"]) <= set(DOMAINS)
    assert set(body["patterns"]) <= set(PATTERNS)
    assert body["route"] in ROUTES
    assert "elderly" in body["domains"]
    assert set(body["body"]) == {"id", "name"}
    assert body["evidence"]
    for ev in body["evidence"]:
        assert set(ev) == {"rule", "label", "description", "text", "start", "end"}
        assert 0 <= ev["start"] < ev["end"] <= len(TEXT)
    assert body["municipality"] == "atsuma"
    # The API adds nothing and loses nothing on the way from the engine.
    assert body == json.loads(json.dumps(triage(TEXT, "atsuma").to_dict()))


def test_area_is_passed_to_the_engine(client):
    area = "成田"
    response = client.post(URL, json={"text": TEXT, "municipality": "atsuma", "area": area})
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(triage(TEXT, "atsuma", area).to_dict()))


@pytest.mark.parametrize("text", ["", "   ", "\u3000\n\t"])
def test_empty_text_is_422(client, text):
    response = client.post(URL, json={"text": text, "municipality": "atsuma"})
    assert_error(response, 422, "text_empty")


def test_text_over_the_limit_is_413(client):
    text = "あ" * (MAX_TEXT_CHARS + 1)
    response = client.post(URL, json={"text": text, "municipality": "atsuma"})
    body = assert_error(response, 413, "text_too_long")
    assert "20,000" in body["message"]


def test_text_of_exactly_the_limit_is_accepted(client):
    # Characters, not bytes: 20,000 characters of Japanese are 60,000 bytes of UTF-8.
    head = "母が認知症です。"
    text = head + "あ" * (MAX_TEXT_CHARS - len(head))
    assert len(text) == 20_000
    response = client.post(URL, json={"text": text, "municipality": "atsuma"})
    assert response.status_code == 200, response.text


def test_unknown_municipality_is_404_and_lists_the_known(client):
    response = client.post(URL, json={"text": TEXT, "municipality": "nowhere"})
    body = assert_error(response, 404, "unknown_municipality")
    assert body["known_municipalities"] == sorted(municipality_ids())
    assert "atsuma" in body["message"] and "tomiya" in body["message"]


def test_malformed_json_is_422(client):
    response = post_raw(client, '{"text": "母が認知症", "municipality": '.encode())
    body = assert_error(response, 422, "malformed_json")
    assert "not valid JSON" in body["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"municipality": "atsuma"}, "text"),
        ({"text": 123, "municipality": "atsuma"}, "text"),
        ({"text": "相談です"}, "municipality"),
    ],
)
def test_wrong_shape_is_422_naming_the_field(client, payload, field):
    body = assert_error(client.post(URL, json=payload), 422, "invalid_request")
    assert [e["field"] for e in body["errors"]] == [field]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"", "application/json"), (b"[1, 2]", "application/json"), (b"text=x", "text/plain")],
)
def test_body_that_is_not_a_json_object_is_422(client, content, content_type):
    response = client.post(URL, content=content, headers={"content-type": content_type})
    body = assert_error(response, 422, "invalid_request")
    assert "JSON object" in body["message"]


def test_errors_never_repeat_the_text(client):
    secret = "秘密の相談内容です"
    responses = [
        client.post(URL, json={"text": secret}),
        client.post(URL, json={"text": secret, "municipality": "nowhere"}),
        post_raw(client, f'{{"text": "{secret}", '.encode()),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500
        assert "秘密" not in response.text


def test_utf8_bom_is_ignored(client):
    # RFC 8259 lets a parser ignore a BOM; it must not end up in the text or the offsets.
    payload = json.dumps({"text": TEXT, "municipality": "atsuma"}, ensure_ascii=False)
    response = post_raw(client, b"\xef\xbb\xbf" + payload.encode())
    assert response.status_code == 200
    assert response.json() == client.post(URL, json={"text": TEXT, "municipality": "atsuma"}).json()


def test_invalid_utf8_is_400(client):
    response = post_raw(client, b'{"text": "\xff\xfe\x8a", "municipality": "atsuma"}')
    assert_error(response, 400, "invalid_encoding")


def test_shift_jis_body_is_a_clear_4xx(client):
    payload = json.dumps({"text": "母が認知症", "municipality": "atsuma"}, ensure_ascii=False)
    response = post_raw(client, payload.encode("shift_jis"))
    assert 400 <= response.status_code < 500
    assert response.json()["code"] in {"invalid_encoding", "malformed_json"}


def test_lone_surrogate_is_422(client):
    response = post_raw(client, b'{"text": "\\ud800\xe6\xaf\x8d", "municipality": "atsuma"}')
    assert_error(response, 422, "text_invalid")


def test_unknown_path_has_a_code(client):
    assert_error(client.get("/api/v1/nothing"), 404, "not_found")


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(client):
    body = b'{"text": "' + b"a" * (300 * 1024) + b'", "municipality": "atsuma"}'
    response = client.post(
        "/api/v1/triage", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
