"""Catchment: which body a result goes to, by municipality and area (issue 2: Catchment),
and municipality-local rules."""

from __future__ import annotations

import pytest

from routing_rules import UnknownMunicipality, municipality_ids, triage

ELDERLY = "一人暮らしの母(84)の物忘れがひどくなってきました"
ELDERLY_AND_POVERTY = "85歳の父の介護で仕事を辞めてから、貯金も底をついて生活が苦しい"


def involved(result) -> list[str]:
    return [body.id for body in result.involved]


def test_both_municipalities_are_known():
    assert {"atsuma", "tomiya"} <= set(municipality_ids())


# --- tomiya: three 地域包括支援センター by area --------------------------------------------


@pytest.mark.parametrize(
    ("area", "body"),
    [
        ("成田", "tomiya-houkatsu-sakura"),
        ("東向陽台", "tomiya-houkatsu-sakura"),
        ("富ケ丘", "tomiya-houkatsu-ichii"),
        ("日吉台", "tomiya-houkatsu-ichii"),
        ("あけの平", "tomiya-houkatsu-wakaba"),
        ("富谷中央", "tomiya-houkatsu-wakaba"),
    ],
)
def test_tomiya_elderly_routes_by_area(area, body):
    result = triage(ELDERLY, "tomiya", area=area)
    assert result.route == "elderly"
    assert result.body.id == body
    assert result.area == area


@pytest.mark.parametrize(
    ("area", "resolved", "body"),
    [
        ("成田二丁目", "成田", "tomiya-houkatsu-sakura"),
        ("富ヶ丘", "富ケ丘", "tomiya-houkatsu-ichii"),
        ("富が丘三丁目", "富ケ丘", "tomiya-houkatsu-ichii"),
        ("あけの平1丁目", "あけの平", "tomiya-houkatsu-wakaba"),
    ],
)
def test_an_area_written_another_way_resolves(area, resolved, body):
    result = triage(ELDERLY, "tomiya", area=area)
    assert result.area == resolved
    assert result.body.id == body


def test_a_place_named_in_the_text_picks_the_body():
    result = triage("日吉台に住む母(80)が認知症で、一人で暮らすのが心配です", "tomiya")
    assert result.route == "elderly"
    assert result.body.id == "tomiya-houkatsu-ichii"
    assert result.area == "日吉台"


def test_the_callers_area_wins_over_a_place_in_the_text():
    result = triage("日吉台に住む母(80)が認知症で", "tomiya", area="成田")
    assert result.area == "成田"
    assert result.body.id == "tomiya-houkatsu-sakura"


@pytest.mark.parametrize("area", ["大亀", "仙台市青葉区", "   "])
def test_an_unknown_area_goes_to_the_default_body(area):
    result = triage(ELDERLY, "tomiya", area=area)
    assert result.route == "elderly"
    assert result.body.id == "tomiya-hoken-center"


def test_no_area_goes_to_the_default_body():
    result = triage(ELDERLY, "tomiya")
    assert result.area is None
    assert result.body.id == "tomiya-hoken-center"


@pytest.mark.parametrize(
    ("text", "route", "body"),
    [
        ("息子に知的障害があり、療育手帳を持っています", "disability", "tomiya-shogai-madoguchi"),
        ("子どもが不登校で悩んでいます", "child", "tomiya-kodomo"),
        ("家賃を2か月滞納しています", "poverty", "tomiya-jiritsu"),
    ],
)
def test_an_area_does_not_move_bodies_without_areas(text, route, body):
    for area in (None, "成田", "日吉台"):
        result = triage(text, "tomiya", area=area)
        assert result.route == route
        assert result.body.id == body


def test_the_general_window_ignores_the_area():
    result = triage("こんにちは", "tomiya", area="成田")
    assert result.route == "general"
    assert result.body.id == "tomiya-hoken-center"


# --- atsuma: no catchment ----------------------------------------------------------------


@pytest.mark.parametrize("area", [None, "成田", "上厚真", "富ケ丘"])
def test_atsuma_has_no_catchment(area):
    result = triage(ELDERLY, "atsuma", area=area)
    assert result.route == "elderly"
    assert result.body.id == "atsuma-houkatsu"


# --- compound: the coordinator, and one body per domain with the catchment applied --------


def test_tomiya_compound_goes_to_the_coordinator_with_catchment_in_involved():
    result = triage(ELDERLY_AND_POVERTY, "tomiya", area="成田")
    assert set(result.domains) == {"elderly", "poverty"}
    assert result.route == "coordinator"
    assert result.body.id == "tomiya-tajikan"
    assert involved(result) == ["tomiya-houkatsu-sakura", "tomiya-jiritsu"]


def test_tomiya_compound_without_area_involves_the_default_body():
    result = triage(ELDERLY_AND_POVERTY, "tomiya")
    assert result.body.id == "tomiya-tajikan"
    assert set(involved(result)) == {"tomiya-hoken-center", "tomiya-jiritsu"}


def test_tomiya_compound_with_a_place_in_the_text():
    result = triage("あけの平の父(88)が認知症で、年金だけでは家賃が払えません", "tomiya")
    assert result.route == "coordinator"
    assert result.area == "あけの平"
    assert "tomiya-houkatsu-wakaba" in involved(result)


def test_atsuma_compound_goes_to_the_coordinator():
    result = triage(ELDERLY_AND_POVERTY, "atsuma", area="成田")
    assert result.body.id == "atsuma-tajikan"
    assert involved(result) == ["atsuma-houkatsu", "atsuma-jiritsu"]


def test_involved_has_one_body_per_domain():
    text = "母(82)が認知症で、同居の息子はうつ病で働けず、家賃も滞納しています"
    result = triage(text, "atsuma")
    assert set(result.domains) == {"elderly", "disability", "poverty"}
    assert len(involved(result)) == len(result.domains)
    assert set(involved(result)) == {"atsuma-houkatsu", "atsuma-shogai", "atsuma-jiritsu"}


def test_a_pattern_only_compound_still_involves_its_domains_bodies():
    result = triage("母(82)と長男(54)、長男は無職で自室にこもっている", "tomiya", area="富ケ丘")
    assert result.route == "coordinator"
    assert result.body.id == "tomiya-tajikan"
    assert "tomiya-houkatsu-ichii" in involved(result)


def test_a_single_domain_involves_no_one_else():
    assert triage(ELDERLY, "tomiya", area="成田").involved == ()


# --- municipalities ----------------------------------------------------------------------


@pytest.mark.parametrize("municipality", ["sapporo", "", "ATSUMA", "atsuma ", "emergency"])
def test_an_unknown_municipality_raises(municipality):
    with pytest.raises(UnknownMunicipality):
        triage("母が認知症です", municipality)


def test_unknown_municipality_is_a_value_error_naming_the_known_ones():
    with pytest.raises(ValueError, match="atsuma"):
        triage("母が認知症です", "sapporo")


# --- municipality-local rules ------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["みんなのおうちに相談したい", "みんなのおうちの人に話を聞いてもらいました"]
)
def test_atsumas_minna_no_ouchi_is_poverty_in_atsuma_only(text):
    in_atsuma = triage(text, "atsuma")
    assert "poverty" in in_atsuma.domains
    assert any(e.label == "poverty" and "みんなのおうち" in e.text for e in in_atsuma.evidence)
    assert "poverty" not in triage(text, "tomiya").domains


@pytest.mark.parametrize(
    "text",
    [
        "ここねっと",
        # SudachiPy splits the name differently alone and in a sentence: matched as written.
        "息子のことで、ここねっとに相談しています",
        "ここねっとの人に話を聞いてもらった",
        "ぱれっとよしおかに相談したい",
    ],
)
def test_tomiyas_kokonetto_is_disability_in_tomiya_only(text):
    assert "disability" in triage(text, "tomiya").domains
    assert "disability" not in triage(text, "atsuma").domains
