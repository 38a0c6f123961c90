"""Who the text is about: ages, school grades and family roles become person mentions.

Role words come from the lexicon (labels `role:*`); ages are read here from the NFKC text
(85歳, 80代, 90過ぎ, (52), 中2, 小6, 八十五歳). A role and an age written next to each
other (「80代の父」「母(85)」) are one person. Out come hits labelled `person:elderly`,
`person:minor`, `person:middle`, `person:adult_child`, `person:minor_subject` and
`self:minor`, which the composite rules and the domain rules build on.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Final

from routing_rules.rules import Cue, People
from routing_rules.scope import spelled_at
from routing_rules.text import SENTENCE_END, Token

_NUM: Final = r"[0-9]{1,3}|[〇一二三四五六七八九十百]{1,4}"
# What may follow a bare age: 「(72・男)」 is a field note's (age・sex); 「父86と私55」 a
# pair; 「兄52無職」 a terse note.
_AGE_CONTEXT: Final = (
    r"の|で|デ|に\s*な|にも|、|。|です|だ|,|くらい|ぐらい|なの|なん|・"
    r"|と(?=[私僕俺わ])|無職|[)）]|\s|$"
)
# Every kind of age starts with one of the characters in the lookahead, so a position
# that cannot start one fails at one test instead of a dozen alternatives.
_AGE: Final = re.compile(
    r"(?=[0-9〇一二三四五六七八九十百(（小中高生]|しょうがく|ちゅうがく)(?:"
    rf"(?P<years>{_NUM})\s*(?:歳|才|さい|サイ)"
    rf"|(?P<decade>[1-9]|[一二三四五六七八九])(?:0|十)?\s*(?:代|ダイ|だい)(?P<half>前半|後半)?"
    rf"|(?<![0-9])(?P<over>[4-9][0-9])\s*(?:を\s*)?(?:過ぎ|すぎ|近く|近い|手前|前後|超え)"
    rf"|[(（](?P<paren>[0-9]{{1,3}}|[一二三四五六七八九十]{{2,3}})(?:歳|才)?[)）]"
    # 「日中一人」「途中一度」: a kanji numeral running on into a word is no grade.
    rf"|(?P<stage>小|中|高)(?:学|校)?\s*(?P<grade>[1-6一二三四五六])(?:年生?)?(?![0-9]|(?<=[一二三四五六])[人日度回番時緒])"
    rf"|(?P<kana_stage>しょう|ちゅう)がく\s*(?P<kana_grade>[1-6])\s*ねん(?:せい)?"
    rf"|(?<![0-9中高])(?P<pupil>[1-6])\s*年生"
    # 「82の父」「私は79で」「もう78」: a bare number where only an age fits.
    rf"|(?<![0-9])(?P<bare>[2-9][0-9]|1[01][0-9])(?={_AGE_CONTEXT})"
    rf"|(?P<kanjiage>[二三四五六七八九]十[一二三四五六七八九]?|十[一二三四五六七八九]|百)(?=に\s*な|の|過ぎ|すぎ|超え|で|です|だ|、|。)"
    # 「私はまだ15」: a teenage writer.
    rf"|(?:(?<=まだ)|(?<=私は)|(?<=僕は)|(?<=俺は))(?P<teen>1[0-9])(?=だ|で|です|、|。|歳)"
    # 「…別れたいけどこわい。17」: a teenage writer signing the message.
    rf"|(?<=[。!?！？\s])(?P<signed>1[0-9])(?=[。!?！？\s]*$)"
    rf"|(?P<month>生後)\s*(?:{_NUM})\s*(?:か月|ヶ月|カ月|ケ月|日))"
)
# A grade starts at this age (小1 is 6, 中1 is 12, 高1 is 15).
_STAGE_AGE: Final = {"小": 5, "中": 11, "高": 14}
_KANA_STAGE: Final = {"しょう": "小", "ちゅう": "中"}  # しょうがく4ねん, as a child types it
# Between a role and its age: particles, and brackets (which tokenize() leaves keyless).
_BETWEEN_ROLE_AND_AGE: Final = frozenset({"の", "は", "、", "が", "(", "（", "も", "もう", ""})
# Roles whose age is unknown unless written: a child's age decides minor or adult.
_CHILD_ROLES: Final = ("role:child", "role:sibling")
# Roles whose age, once written, holds for the same words named again (「上の子(小6)…上の子が」).
_INHERITING_ROLES: Final = (*_CHILD_ROLES, "role:minor")


class Mention:
    """A role or an age found in the text, in token positions."""

    __slots__ = ("labels", "start", "end")

    def __init__(self, labels: tuple[str, ...], start: int, end: int) -> None:
        self.labels = labels
        self.start = start
        self.end = end


class Age:
    __slots__ = ("years", "start", "end")

    def __init__(self, years: int, start: int, end: int) -> None:
        self.years = years
        self.start = start  # NFKC character offsets
        self.end = end


def _number(text: str, kanji: dict[str, int]) -> int:
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        value = kanji.get(ch, 0)
        if value in (10, 100):
            total += (current or 1) * value
            current = 0
        else:
            current = current * 10 + value
    return total + current


# 「はちじゅうさんさい」: an age in hiragana, as elderly writers type it (ten and over, so
# that さんさい stays 山菜).
_KANA_DIGIT: Final = "いち|に|さん|よん|し|ご|ろく|なな|しち|はち|はっ|きゅう|く"
_KANA_AGE: Final = re.compile(f"(?:{_KANA_DIGIT})?(?:じゅう|じゅっ)(?:{_KANA_DIGIT})?(?=さい)")


def _kana_number(spelled: str, kana_numbers: dict[str, int]) -> int:
    tens, _, ones = spelled.replace("じゅっ", "じゅう").partition("じゅう")
    return kana_numbers.get(tens, 1) * 10 + kana_numbers.get(ones, 0)


def read_ages(text: str, people: People) -> list[Age]:
    ages: list[Age] = []
    if "じゅ" in text:
        for m in _KANA_AGE.finditer(text):
            ages.append(Age(_kana_number(m[0], people.kana_numbers), m.start(), m.end()))
    for word, years in people.age_words.items():  # 還暦, 古希, 米寿: a handful of words
        at = text.find(word)
        while at != -1:
            ages.append(Age(years, at, at + len(word)))
            at = text.find(word, at + len(word))
    for m in _AGE.finditer(text):
        if m["years"]:
            years = _number(m["years"], people.kanji_numbers)
        elif m["decade"]:
            # A decade counts from a little before its middle: 60代 is not yet 65, 70代 is.
            offset = {"前半": 2, "後半": 7}.get(m["half"] or "", 4)
            years = _number(m["decade"], people.kanji_numbers) * 10 + offset
        elif m["over"]:
            years = int(m["over"])
        elif m["paren"] or m["bare"] or m["teen"] or m["signed"]:
            written = m["paren"] or m["bare"] or m["teen"] or m["signed"]
            years = _number(written, people.kanji_numbers)
        elif m["kanjiage"]:
            years = _number(m["kanjiage"], people.kanji_numbers)
        elif m["stage"]:
            years = _STAGE_AGE[m["stage"]] + _number(m["grade"], people.kanji_numbers)
        elif m["kana_grade"]:
            years = _STAGE_AGE[_KANA_STAGE[m["kana_stage"]]] + int(m["kana_grade"])
        elif m["pupil"]:
            years = _STAGE_AGE["小"] + int(m["pupil"])  # 「5年生」 alone: most often a pupil
        else:
            years = 0
        if years <= 120:
            ages.append(Age(years, m.start(), m.end()))
    return sorted(ages, key=lambda age: age.start) if len(ages) > 1 else ages


def find_people(
    text: str,
    tokens: list[Token],
    roles: list[Mention],
    people: People,
    animals: frozenset[str] = frozenset(),
) -> list[Mention]:
    """Person mentions from roles and ages; each says what kind of person it is.

    An age in a clause about an animal (「うちの犬（14歳）」) is no person's.
    """
    starts = [t.start for t in tokens]

    def token_at(offset: int) -> int:
        return max(0, bisect_right(starts, offset) - 1)

    pets = {t.clause for t in tokens if t.key in animals}
    ages = [
        (start, token_at(a.end - 1) + 1, a.years)
        for a in read_ages(text, people)
        if tokens[start := token_at(a.start)].clause not in pets
    ]
    roles = _merge_described(roles, tokens, people)
    used: set[int] = set()
    found: list[Mention] = []
    # found[i]: 「子ども」 with no age or grade, and whether its clause says it is grown up
    unaged_children: list[tuple[int, bool]] = []
    # 「小1の息子…息子はパニックに」: a child named again without the age is the same child
    child_years: dict[str, int] = {}
    for role in roles:
        age = _attached_age(role, ages, tokens)
        keeps_age = any(label in _INHERITING_ROLES for label in role.labels)
        words = "".join(t.key for t in tokens[role.start : role.end]) if keeps_age else ""
        if age is not None:
            used.add(age)
            a_start, a_end, years = ages[age]
            span = (min(role.start, a_start), max(role.end, a_end))
            if keeps_age:
                child_years.setdefault(words, years)
        elif keeps_age and words in child_years:
            years, span = child_years[words], (role.start, role.end)
        else:
            years, span = None, (role.start, role.end)
            if role.labels == ("role:minor",) and words in people.grown_if_writer_elderly:
                grown = _leads_a_grown_life(tokens, role.end, people)
                unaged_children.append((len(found), grown))
        found.extend(_classify(role.labels, years, span, tokens, people))
    for i, (a_start, a_end, years) in enumerate(ages):
        if i not in used:
            found.extend(_classify(("role:someone",), years, (a_start, a_end), tokens, people))
    elderly_writer = any("self:elderly" in m.labels for m in found)
    for i, grown in unaged_children:  # an elderly writer's children are grown up too
        if grown or elderly_writer:
            found[i] = Mention(("person:adult_child",), found[i].start, found[i].end)
    return found


def _named_by_job(tokens: list[Token], end: int, people: People) -> bool:
    """「40代の会社員です」「52歳、看護師」: the age is a working adult's."""
    after = [t.key for t in tokens[end : end + 2] if t.key]
    if after[:1] in (["の"], ["、"]):
        after = after[1:]
    return bool(after) and after[0] in people.occupations


def _leads_a_grown_life(tokens: list[Token], end: int, people: People) -> bool:
    """「子どもは東京で働いてます」「子どもたちはもう独立しました」: children, grown up."""
    clause = tokens[end - 1].clause
    for token in tokens[end:]:
        if token.clause != clause:
            return False
        if token.key in people.grown_up_life:
            return True
    return False


def _merge_described(roles: list[Mention], tokens: list[Token], people: People) -> list[Mention]:
    """「中学生の娘」「高校生の私」: a school child and the family role that follows it
    through の are one person; 「高校生の私」 is the writer. So are 「娘（中学生）」."""
    spans: dict[tuple[int, int], tuple[str, ...]] = {}
    for role in roles:  # one mention per span, with every label found there
        spans[role.start, role.end] = (*spans.get((role.start, role.end), ()), *role.labels)
    merged: list[Mention] = []
    for (start, end), labels in sorted(spans.items()):
        role = Mention(labels, start, end)
        previous = merged[-1] if merged else None
        between = [t.key for t in tokens[previous.end : role.start] if t.key] if previous else []
        if previous is not None and (
            (
                "role:minor" in previous.labels
                and between == ["の"]
                and any(label in _CHILD_ROLES for label in role.labels)
            )
            or (
                any(label in _CHILD_ROLES for label in previous.labels)
                and between == ["("]
                and "role:minor" in role.labels
            )
        ):
            merged[-1] = Mention((*previous.labels, *role.labels), previous.start, role.end)
        else:
            merged.append(role)
    return merged


def _attached_age(role: Mention, ages: list[tuple[int, int, int]], tokens: list[Token]):
    """The age written right before (「80代の父」) or right after (「母(85)」「母85歳」)."""
    for i, (a_start, a_end, _) in enumerate(ages):
        between = tokens[a_end : role.start] if a_end <= role.start else tokens[role.end : a_start]
        if a_end > role.start and a_start < role.end:
            return i  # overlapping: 「中2女子」
        if len(between) <= 2 and all(t.key in _BETWEEN_ROLE_AND_AGE for t in between):
            if a_start >= role.end and _describes_next(tokens, a_end, between):
                continue  # 「息子が4歳の妹の面倒を」: the age is the sister's
            return i
    return None


def _describes_next(tokens: list[Token], age_end: int, between: list[Token]) -> bool:
    """An age after a role and its particle (が, は, も) that runs on into 「の」 names the
    person who follows it."""
    particle = any(t.key in ("が", "は", "も") for t in between)
    return particle and age_end < len(tokens) and tokens[age_end].key == "の"


def _classify(labels, years, span, tokens, people: People) -> list[Mention]:
    start, end = span
    kinds: list[str] = []
    if years is not None:
        if years >= people.elderly_from:
            kinds.append("person:elderly")
        elif years < people.adult_from:
            kinds.append("person:minor")
        else:
            if (
                people.middle_from <= years <= people.middle_to
                and not _elder_role(labels)
                and not _named_by_job(tokens, end, people)
            ):
                kinds.append("person:middle")
            if years >= people.middle_from and any(label in _CHILD_ROLES for label in labels):
                kinds.append("person:adult_child")  # 8050's 「50」: not a child of 25
    else:
        if "role:elderly" in labels:
            kinds.append("person:elderly")
        if "role:minor" in labels:
            kinds.append("person:minor")
        elif any(label in _CHILD_ROLES for label in labels):
            kinds.append("person:adult_child")  # age unknown: may be an adult
    bare = labels == ("role:someone",)  # an age or grade with no role word
    if bare and years is not None and years >= people.elderly_from:
        after = _after_person(tokens, end, people)
        if _writers_own(tokens, start, end, after, people, bare) or _becomes(tokens, after):
            kinds.append("self:elderly")  # 「87歳。」「84になりました」: the writer is elderly
    if "person:minor" in kinds and _may_care(labels, years):
        after = _after_person(tokens, end, people)
        if after is not None and tokens[after].key in people.subject_markers:
            kinds.append("person:minor_subject")
        writer = _writers_own(tokens, start, end, after, people, bare)
        if after is not None and after + 1 < len(tokens) and tokens[after].key == "の":
            writer = writer or tokens[after + 1].key in people.self_words  # 「高校生の私が」
            subject = after + 2 < len(tokens) and tokens[after + 2].key in people.subject_markers
            if writer and subject:
                kinds.append("person:minor_subject")
        if writer:
            kinds.append("self:minor")  # 「高校生です」「ぼく中2」: the writer is a minor
        opens = _opens_note(tokens, start)
        if opens and after is not None and tokens[after].surface in ("。", "、"):
            kinds.append("person:minor_topic")  # a note that opens on the child: 「中2。」
    return [Mention(tuple(kinds), start, end)] if kinds else []


def _writers_own(
    tokens: list[Token], start: int, end: int, after: int | None, people: People, bare: bool
) -> bool:
    """「高校生です」「私（高1）」「私はまだ15」「…こわい。17」: an age or grade the writer
    gives of themself: a copula after it, a self word a few words before in its clause, or
    (a bare one) a sentence of its own."""
    clause = tokens[start].clause
    before = [t.key for t in tokens[max(0, start - 3) : start] if t.clause == clause]
    return (
        (after is not None and _starts(tokens, after, people.copulas))
        or any(key in people.self_words for key in before)
        or (bare and _stands_alone(tokens, start, end))
    )


def _becomes(tokens: list[Token], after: int | None) -> bool:
    """「84になりました」: an age the writer has reached."""
    return (
        after is not None
        and after + 1 < len(tokens)
        and tokens[after].key == "に"
        and tokens[after + 1].key == "成る"
    )


# A note's heading ends here: 「SSW報告：中2女子。」「【担任より】小6男子、」
_HEADING_END: Final = frozenset(":】")


def _opens_note(tokens: list[Token], start: int) -> bool:
    """The mention opens the text, or follows the heading of its first sentence."""
    before = tokens[start - 1] if start else None
    return before is None or (before.surface in _HEADING_END and before.sentence == 0)


def _stands_alone(tokens: list[Token], start: int, end: int) -> bool:
    """「…寝てる。小6。宿題…」「…こわい。17」: an age or grade that is a sentence of its own
    signs the message, so it is the writer's."""
    opens = start == 0 or _ends_sentence(tokens[start - 1])
    return opens and (end == len(tokens) or _ends_sentence(tokens[end]))


def _ends_sentence(token: Token) -> bool:
    return token.surface in SENTENCE_END or token.surface.isspace()


def _elder_role(labels) -> bool:
    """Parents and spouses are the older generation: never the 「50」 of 8050."""
    return "role:parent" in labels or "role:spouse" in labels


def _may_care(labels, years) -> bool:
    """A child old enough to be a carer: school age by grade, word or written age."""
    return "role:school_age" in labels or (years is not None and years >= 6)


def _after_person(tokens: list[Token], end: int, people: People) -> int | None:
    """The token after a person mention, past nouns like 女子 (「中2女子、…」)."""
    i, nouns = end, people.person_nouns
    while i < len(tokens):
        if tokens[i].key in nouns or tokens[i].pos2 == "括弧閉":
            i += 1
        elif tokens[i].key == "の" and i + 1 < len(tokens) and tokens[i + 1].key in nouns:
            i += 2  # 「5年生の子が」
        else:
            break
    return i if i < len(tokens) else None


def _starts(tokens: list[Token], i: int, cues: tuple[Cue, ...]) -> bool:
    return any(spelled_at(tokens, i, cue) for cue in cues)
