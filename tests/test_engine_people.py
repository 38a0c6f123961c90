"""Ages, grades and family roles, and the patterns they feed: 8050, ダブルケア, ヤングケアラー.

SPEC/issue 2: 8050 is an elderly parent with a middle-aged child who is withdrawn or
without work; ダブルケア is childcare and eldercare by one person; ヤングケアラー is a
minor doing care. Elderly is 65 and over; a child is under 18.
"""

from __future__ import annotations

import pytest

from routing_rules import triage
from tests.helpers import quoted

# --- ages and roles -> domains -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "85歳の母のことで相談です",
        "80代の父のことで相談です",
        "母(85)のことで相談です",
        "母（85）のことで相談です",
        "90過ぎの父のことで相談です",
        "八十五歳の祖母のことで相談です",
        "七十八歳の母のことで相談です",
        "父さん、転んでから弱ってしまって。もう八十五だし、心配なんだわ",
        "七十代の母のことで相談です",
        "65歳の父のことで相談です",
        "70代の母のことで相談です",
        "訪問記録。D氏(72・男)、独居のことで相談です",  # a field note's (age・sex)
        "わしは七十六になる。膝が悪くて雪はねもできねえ",
        # ages as elderly writers type them, and as they are celebrated
        "わたしは はちじゅうさんさいです",
        "米寿の母のことで",
        "親は二人とも八十超えてて",
        "ばあちゃん九十一。",
        "同居の父（七十七）のこと",  # kanji in brackets
        "ﾜﾀｼ 80ﾀﾞｲ",  # a decade in katakana
    ],
)
def test_an_elderly_age_gives_elderly(text):
    result = triage(text, "atsuma")
    assert result.domains == ("elderly",), quoted(result)
    assert result.route == "elderly"


@pytest.mark.parametrize(
    "text",
    [
        "64歳の父のことで相談です",
        "母(58)のことで相談です",
        "40代の母のことで相談です",
        "五十歳の父のことで相談です",
    ],
)
def test_a_younger_parent_is_not_elderly(text):
    assert "elderly" not in triage(text, "atsuma").domains


@pytest.mark.parametrize(
    "text",
    [
        "中2の娘のことで相談です",
        "小6の息子のことで相談です",
        "高1です。相談があります",
        "3歳の子のことで相談です",
        "17歳の娘のことで相談です",
        "小学3年生の息子のことで相談です",
        "生後3か月の子のことで相談です",
        "娘(14)のことで相談です",
        "友達と遊ぶとキレられる。別れたいけどこわい。17",  # a message signed with the age
        # a grade spelled in kana, as a child types it
        "しょうがく2ねんです。きょう おうちに だれも いない",
        "ちゅうがく1ねん。そうだんしたい",
        # a school named without the grade, and a school's 「男児・女児」
        "中学の息子がノートに落書きばかりしている",
        "3年男児の件でご相談です",
        "中学校より：1年男子の件でご相談です",
    ],
)
def test_a_minor_age_or_grade_gives_child(text):
    result = triage(text, "atsuma")
    assert result.domains == ("child",), quoted(result)
    assert result.route == "child"


@pytest.mark.parametrize(
    "text", ["18歳の娘のことで相談です", "息子(25)のことで相談です", "大学生の娘のことで相談です"]
)
def test_an_adult_son_or_daughter_is_not_a_child(text):
    assert "child" not in triage(text, "atsuma").domains


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("祖母のことで相談です", "elderly"),
        ("おばあちゃんが最近よく転ぶ", "elderly"),
        ("赤ちゃんの夜泣きがひどい", "child"),
        ("孫のことで相談です", "child"),
    ],
)
def test_a_role_gives_its_domain(text, domain):
    assert domain in triage(text, "atsuma").domains


def test_a_role_word_is_quoted_with_its_age():
    text = "うちの母(85)が最近物忘れがひどい"
    result = triage(text, "atsuma")
    person = [e for e in result.evidence if "母(85)" in e.text and e.label == "elderly"]
    assert person, quoted(result)
    assert text[person[0].start : person[0].end] == person[0].text


# --- ひきこもり alone is a pattern, not a domain --------------------------------------------


def test_a_withdrawn_son_in_his_forties_alone_is_hikikomori_without_a_domain():
    result = triage("40代の息子が部屋から出てこない", "atsuma")
    assert "hikikomori" in result.patterns
    assert "8050" not in result.patterns
    assert result.domains == ()
    assert not result.compound
    assert result.route == "general"


# --- 8050 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "母(82)と長男(54)、長男は無職で自室にこもっている",
        "80代の両親と無職の息子(52)が暮らしている",
        "父(84)と二人暮らしの娘(46)が、統合失調症で働けない",
        "70代の両親と同居している50代の兄が、仕事を辞めてから部屋から出てこない",
        # terse messages: an age right after a role or 「わたし」, then a space
        "母83 わたし57 仕事なくしてから4年 家からでられない",
        "はは80 おれ52 むしょく もう何年も家から出てない",
        "おかん77、俺(47)。おかんの年金で食ってる。バイトも続かない",
        "近所の民生委員やってるんだけど、ばあちゃん九十一でせがれ六十三。せがれさん、ここ何年も外で見たことないんだわ",
        # kana やめる, as 辞める
        "せがれが しごと やめてから もう 10ねん たちます わたしは 82で からだが きかない",
        # Tohoku: 家さいる is 家にいる
        "うちの長男、もう四十過ぎだのに仕事さ行がねで、ずっと家さいるっちゃ。おら七十八だし",
        # a field note's 「就労なし」
        "訪問。母（89）寝たきり、おむつ交換されず褥瘡あり。長男（61）同居、就労なし",
        # living on a parent's pension, or 「そのうち働く」 for years
        "母の年金で暮らしてる。俺は43。母の利用料が払えなくなった",
        "うちの息子、もう45になるんだけど、いまだに「そのうち働く」って言ってる。私も今年で77",
        "うちの息子は47で、もう15年くらい家にいる。私ら夫婦は78と75",
    ],
)
def test_8050(text):
    result = triage(text, "atsuma")
    assert "8050" in result.patterns, quoted(result)
    assert "elderly" in result.domains
    assert result.compound
    assert result.route == "coordinator"
    assert result.body.id == "atsuma-tajikan"


@pytest.mark.parametrize(
    "text",
    [
        "30代の息子が無職で部屋から出てこない",
        "40代の息子が部屋から出てこない",
        "85歳の母と同居の息子(55)は会社員で、元気に働いています",
        "80代の父が認知症で、近くに住む娘(50)が通って世話をしています",
        # work not yet left; a daughter who lives in a group home; a pupil (in brackets)
        "50代の娘さんが、80代のお父さんの介護のために仕事を辞めようか迷っているそうです",
        "八十の母です。知的障害のある娘（48）はグループホームで暮らしています",
        "重度知的障害の娘（中学生）と、八十二歳の父の介護が重なって、もう限界です",
        # a pupil writing: the brother is no 「50」
        "中学生です。認知症のおじいちゃんと知的障害のあるお兄ちゃんのご飯をわたしが作ってます",
        # the writer's own young child: double care, not a withdrawn 「50」
        "小2の息子に自閉症があって目が離せません。父(77)がパーキンソン病で要介護2になり、通院の付き添いは私がやることになりました",
        # the same young son named again without his grade
        "認知症の母(82)と、自閉症の小2の息子がいます。息子は毎晩パニックになります",
        # a middle-aged writer named by a job is working, whoever the illness is
        "40代の会社員です。母(79)は認知症で一人暮らし、小4の息子はADHDです",
    ],
)
def test_not_8050(text):
    # No elderly parent, or the middle-aged child works and is not withdrawn.
    assert "8050" not in triage(text, "atsuma").patterns


# --- ダブルケア --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "母の介護と子どもの保育園の送り迎えで毎日ギリギリ",
        "小学生の息子と要介護3の義母の世話で、自分の時間がまったくない",
        "保育園児の娘を育てながら、認知症の父の介護をしています",
        "私は母の介護をしています。小学生の子どももいます",
    ],
)
def test_double_care(text):
    result = triage(text, "atsuma")
    assert "double_care" in result.patterns, quoted(result)
    assert "young_carer" not in result.patterns
    assert {"elderly", "child"} <= set(result.domains)
    assert result.route == "coordinator"


@pytest.mark.parametrize(
    "text",
    [
        "母の介護で毎日くたくたです",
        "子どもの保育園の送り迎えで毎日ギリギリ",
        "85歳の母と中学生の孫と三人で暮らしています",
    ],
)
def test_not_double_care(text):
    assert "double_care" not in triage(text, "atsuma").patterns


# --- ヤングケアラー -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "中学生の娘が祖母の介護をしていて学校を休みがち",
        "中2の娘が祖母の介護をしていて学校を休みがち",
        "小学5年の娘が、病気の母親の代わりに妹の世話をしています",
        "中3です。母が病気なので弟たちのごはんを作って、洗濯もしています",
        "高校生の息子が、寝たきりの祖父のおむつ替えを毎晩手伝っている",
        "高校生の私が毎日祖母の介護をしています",
        # a note that opens on the pupil after its heading
        "SSW報告：中2女子。母がうつ病で寝込むことが多く、本人が弟(小3)の食事・送迎・洗濯を担っている",
        "担任メモ：中1男子、父子家庭。父が夜勤のため、本人が祖父の夕食と服薬の見守りを毎日している",
        # chores named as nouns in a school's note
        "SSW記録：中1女子。母が夜勤の日は、本人が夕食準備と寝かしつけをしている",
        "中2の生徒。朝は母親を起こして薬を飲ませ、弟を送ってから登校している",
        "中3の娘が、日本語ができない私のかわりに、役所の手続きを全部やっています",
    ],
)
def test_young_carer(text):
    result = triage(text, "atsuma")
    assert "young_carer" in result.patterns, quoted(result)
    assert "double_care" not in result.patterns
    assert "child" in result.domains
    assert result.compound
    assert result.route == "coordinator"


@pytest.mark.parametrize(
    "text",
    [
        "私は母の介護をしています。小学生の子どももいます",
        "私(42)は母(75)の介護をしていて、中学生の息子がいます",
        "中学生の息子は部活で忙しく、私は父の介護で疲れています",
        "ヘルパーさんが祖母の介護をしてくれて、中学生の娘は部活を頑張っています",
    ],
)
def test_an_adult_caring_with_a_child_at_home_is_not_a_young_carer(text):
    assert "young_carer" not in triage(text, "atsuma").patterns


@pytest.mark.parametrize(
    "text",
    [
        "妻を亡くしてから、誰とも話さない日が続いています。87歳。子どもは東京で、電話も鳴りません",
        "84になりました。息子たちには迷惑かけたくない",
        "80代の父が心配です。日中一人にするのが不安で",  # 日中一 is no grade
        "うちの子、もう40なんですけど、最近転職して東京で一人暮らし始めました",
    ],
)
def test_no_child_where_none_is_young(text):
    # An elderly writer's children are grown up; 「日中一人」 holds no 中一.
    result = triage(text, "atsuma")
    assert "child" not in result.domains, quoted(result)


def test_an_elderly_writer_still_has_young_grandchildren():
    assert "child" in triage("84歳です。孫が不登校で心配です", "atsuma").domains


@pytest.mark.parametrize(
    ("text", "domains"),
    [
        ("在宅酸素を使っている一人暮らしです", ("disability",)),
        ("週3回透析に通っています", ("disability",)),
        ("在宅酸素を使っている80代の父のことです", ("elderly",)),  # an older person's care
        ("52歳です。若年性アルツハイマー型認知症と言われました", ("disability",)),
    ],
)
def test_medical_care_at_home_is_a_disability_before_old_age(text, domains):
    assert triage(text, "atsuma").domains == domains
