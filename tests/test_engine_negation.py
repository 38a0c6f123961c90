"""Negated, past and hypothetical mentions are not evidence; a worry is (SPEC: rules of evidence).

Each negated text is paired with an affirmed one, so a test fails if the word stops
being understood at all, not only if the negation stops working.
"""

from __future__ import annotations

import pytest

from routing_rules import triage
from routing_rules.engine import rules_for
from routing_rules.scope import Marks
from routing_rules.text import tokenize
from tests.helpers import quoted


def labels(result) -> set[str]:
    return set(result.domains) | set(result.patterns)


# (negated, affirmed, label): the label is missing from the first and present in the second.
NEGATED_PAIRS = [
    ("母は認知症ではないと医師に言われました", "母は認知症だと医師に言われました", "elderly"),
    ("お金には困っていません", "お金に困っています", "poverty"),
    ("借金はありません", "借金があります", "poverty"),
    ("子どもに虐待の様子なし", "子どもに虐待の様子あり", "abuse"),
    ("死にたいとかではないです", "死にたいです", "suicide_risk"),
    ("DVとかは全然ないです", "夫からDVを受けています", "dv"),
    ("息子に障害はありません", "息子に障害があります", "disability"),
    ("家賃の滞納はないです", "家賃を滞納しています", "poverty"),
    ("父は特に物忘れもなく元気です", "父は物忘れがひどいです", "elderly"),
    # field notes: a negation reaches every item of a list, and over who said it
    ("経済的な困窮や虐待を疑う所見なし", "経済的な困窮あり", "poverty"),
    ("経済的な困窮や虐待を疑う所見なし", "虐待を疑う所見あり", "abuse"),
    ("夫婦関係は良好で、暴力・暴言はないと本人", "夫婦関係は悪く、暴言があると本人", "abuse"),
    ("一時保護解除後1年、虐待の再発なし", "一時保護解除後1年、虐待の再発あり", "abuse"),
    ("希死念慮は本人・主治医とも否定", "希死念慮あり", "suicide_risk"),
    ("子どもはおりません", "子どもがおります", "child"),
    ("奨学金の借金はもう返し終わりました", "奨学金の借金があります", "poverty"),
    ("障害者手帳は持っていませんし、診断もありません", "障害者手帳を持っています", "disability"),
    ("小5の子、ヤングケアラーってほどじゃないよね", "小5の子はヤングケアラーです", "young_carer"),
    ("姑の介護は終わって、子どもたちも大きくなりました", "子どもたちがまだ小さいです", "child"),
    ("お金の心配はないんだけど、父の物忘れが", "お金がないし、父の物忘れが", "poverty"),
    ("子どもは東京で働いてます", "子どもは東京の小学校に通ってます", "child"),
    ("子どもたちはもう独立しました", "子どもたちはまだ保育園です", "child"),
    ("夫が物忘れ外来に行きました", "夫の物忘れがひどくなりました", "elderly"),
    # a negation reaches over a noun run on from the mention (自傷|行為, 介護|放棄)
    ("虐待・介護放棄の兆候なし", "虐待・介護放棄の兆候あり", "abuse"),
    ("希死念慮・自傷行為いずれもなし", "希死念慮・自傷行為あり", "suicide_risk"),
    ("虐待をうかがわせる様子はありません", "虐待をうかがわせる様子があります", "abuse"),
    ("昨年度に身体的虐待で一時保護歴あり", "身体的虐待で一時保護されました", "abuse"),
    ("困窮の訴えなし", "困窮の訴えあり", "poverty"),
    ("希死念慮については確認し否定", "希死念慮については確認し、あり", "suicide_risk"),
]


@pytest.mark.parametrize(("negated", "affirmed", "label"), NEGATED_PAIRS)
def test_a_negated_mention_is_not_evidence(negated, affirmed, label):
    result = triage(negated, "atsuma")
    assert label not in labels(result), quoted(result)
    assert not any(e.label == label for e in result.evidence)


@pytest.mark.parametrize(("negated", "affirmed", "label"), NEGATED_PAIRS)
def test_the_same_mention_affirmed_is_evidence(negated, affirmed, label):
    assert label in labels(triage(affirmed, "atsuma"))


@pytest.mark.parametrize(
    "text",
    [
        "子どもに虐待の様子なし",
        "死にたいとかではないです",
        "DVとかは全然ないです",
        "虐待とかそういうのではないです",
    ],
)
def test_a_negated_danger_is_not_urgent(text):
    result = triage(text, "atsuma")
    assert not result.urgent
    assert result.urgent_reasons == ()
    assert result.emergency == ()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("母が認知症じゃないかと心配", "elderly"),
        ("息子に障害があるのではないか", "disability"),
        ("父、認知症じゃないかな", "elderly"),
        ("娘は発達障害かもしれない", "disability"),
    ],
)
def test_a_suspicion_is_evidence(text, label):
    assert label in labels(triage(text, "atsuma"))


@pytest.mark.parametrize(
    ("text", "label", "gone"),
    [
        ("借金はないけど、家賃を3か月滞納している", "poverty", None),
        ("お金には困ってないけど、息子が何年も部屋から出てこない", "hikikomori", "poverty"),
        ("認知症ではないが、母(88)は足腰が弱ってきた", "elderly", None),
    ],
)
def test_a_negation_reaches_only_its_own_clause(text, label, gone):
    result = triage(text, "atsuma")
    assert label in labels(result), quoted(result)
    if gone:
        assert gone not in labels(result), quoted(result)


# --- 「死ぬほど」 is a figure of speech; 「死ぬしかない」 is not ------------------------------


@pytest.mark.parametrize(
    "text", ["死ぬほど疲れた", "仕事が忙しくて死ぬほど疲れた", "死ぬほど眠いけど頑張ります"]
)
def test_shinu_hodo_is_not_suicide_risk(text):
    result = triage(text, "atsuma")
    assert "suicide_risk" not in result.patterns
    assert not result.urgent


@pytest.mark.parametrize(
    "text", ["もう死ぬしかない", "借金が返せない。もう死ぬしかないと思っています"]
)
def test_shinu_shika_nai_is_suicide_risk(text):
    result = triage(text, "atsuma")
    assert "suicide_risk" in result.patterns
    assert result.urgent
    assert "suicide_risk" in result.urgent_reasons


# --- cue words, as a sentence spells them ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("もし母が倒れたら", "hypothetical_before"),  # SudachiPy's key: 若し
        ("母が倒れたら", "hypothetical_after"),  # key た: found as written
        ("何度言っても", "hypothetical_after"),  # two words in a sentence: て, も
        ("止まるかもしれない", "hypothetical_after"),
        ("虐待とは何ですか", "mention_only"),
        ("夫と離婚してから", "past_after"),  # 「し」 alone reads as the auxiliary き
        ("仕事を辞めてから", "present"),  # 「て」 alone reads as で
    ],
)
def test_a_cue_is_found_where_a_sentence_has_it(text, kind):
    marks = Marks(tokenize(text), rules_for("atsuma").scopes)
    assert marks.starts[kind], f"{kind} not found in {text}"


# --- past and ongoing -------------------------------------------------------------------


def test_a_debt_paid_off_long_ago_is_not_poverty():
    result = triage("昔は借金があったけど今は返し終わった", "atsuma")
    assert "poverty" not in result.domains, quoted(result)


def test_a_debt_since_long_ago_still_is():
    assert "poverty" in triage("昔から借金があって、今も返せていない", "atsuma").domains


def test_what_started_young_and_has_lasted_for_years_still_is():
    # 長年 brings a sentence back to the present, even where the mention starts with it.
    text = "息子は若い頃に心を病んだそうで、長年ほとんど外出していません"
    assert "hikikomori" in triage(text, "atsuma").patterns, quoted(triage(text, "atsuma"))


def test_a_wish_to_die_when_young_is_past():
    text = "若い頃は死にたいと思った時期もありましたが、今は毎日楽しく暮らしています"
    result = triage(text, "atsuma")
    assert "suicide_risk" not in result.patterns and not result.urgent, quoted(result)


def test_violence_before_a_divorce_years_ago_is_not_urgent():
    # the cue 「離婚 し」: read alone, SudachiPy took its し for the auxiliary き
    result = triage("元夫からのDVで離婚して3年になります。今は安全に暮らせています", "atsuma")
    assert not result.urgent, quoted(result)
    assert triage("夫からのDVで毎日つらいです", "atsuma").urgent


def test_a_cut_that_happened_once_is_not_urgent():
    result = triage("先月ガスを止められたことがあったけど、すぐ払って今は使えてる", "atsuma")
    assert not result.urgent, quoted(result)


def test_a_school_left_behind_is_not_a_child():
    result = triage("息子(20)は特別支援学校の高等部を今春卒業して、仕事を探しています", "atsuma")
    assert "child" not in result.domains, quoted(result)
    assert "child" in triage("息子は特別支援学校の高等部に通っています", "atsuma").domains


def test_a_word_asked_about_is_not_evidence():
    # the cue 「とは」 is two words in a sentence (と, は)
    result = triage("虐待とはどういうことですか", "atsuma")
    assert not result.urgent and "abuse" not in result.patterns, quoted(result)


# --- a fear for later is not urgent today ----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "電気が止まりそう",
        "来週にはガスが止まるかもしれない",
        "このままだと水道が止められそうです",
        # 「もし」 and 「たら」 as written: SudachiPy's keys are 若し and た
        "もし電気が止まったらどうしよう",
        "給水停止の予告通知が届きました。止まるのは来週だそうです",
    ],
)
def test_a_lifeline_about_to_be_cut_is_not_urgent(text):
    result = triage(text, "atsuma")
    assert not result.urgent, quoted(result)
    assert "lifeline_cut" not in result.urgent_reasons


@pytest.mark.parametrize(
    "text", ["電気が止まっている", "ガスを止められてお湯が出ません", "水道が止まって3日たちます"]
)
def test_a_lifeline_cut_now_is_urgent(text):
    result = triage(text, "atsuma")
    assert result.urgent
    assert "lifeline_cut" in result.urgent_reasons
    assert "poverty" in result.domains


@pytest.mark.parametrize(
    "text", ["もし倒れたら誰も気づかない", "一人暮らしなので、万一倒れたらと思うと不安です"]
)
def test_a_collapse_imagined_is_not_urgent(text):
    result = triage(text, "atsuma")
    assert not result.urgent, quoted(result)


def test_a_collapse_happening_is_urgent():
    result = triage("母が台所で倒れていて、呼んでも返事がありません", "atsuma")
    assert result.urgent
    assert "unreachable" in result.urgent_reasons


# --- where the negation is the meaning ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "生きていても仕方ない",
        "誰も助けてくれない。生きていく自信がない",
        "生きる意味がない",
        "生きている意味がわからない",
        "生きてる意味ない",
    ],
)
def test_a_negation_that_is_the_risk_itself_is_suicide_risk(text):
    result = triage(text, "atsuma")
    assert "suicide_risk" in result.patterns, quoted(result)
    assert result.urgent


@pytest.mark.parametrize(
    "text",
    [
        "暗かったので電気が止まったのかと心配したが、照明をつけていないだけだった",
        "去年の今ごろは電気もガスも止まりかけて、ここで相談に乗ってもらいました",
        "先月はお米も買えないくらい苦しかったけど、今は何とかなってる",
        "昨年、孫からの暴言があり包括が介入した経緯あり。孫は春に転居し以降問題なし",
    ],
)
def test_a_worry_an_almost_a_degree_or_a_closed_matter_is_not_urgent(text):
    result = triage(text, "atsuma")
    assert not result.urgent, quoted(result)
