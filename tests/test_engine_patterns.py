"""Each SPEC pattern and each urgent kind, positive and negative; emergency lines; the
general window; what every result and every piece of evidence carries.

All texts are fictional and written for these tests (not taken from tests/corpus).
"""

from __future__ import annotations

import re

import pytest

from routing_rules import triage
from routing_rules.result import DOMAINS, PATTERNS
from tests.helpers import quoted

PUBLIC_LABELS = {*DOMAINS, *PATTERNS, "urgent"}
JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")


def line_ids(result) -> set[str]:
    return {line.id for line in result.emergency}


# --- patterns ----------------------------------------------------------------------------

POSITIVE = {
    "8050": [
        "父(83)と暮らす長男(51)は、会社を辞めてから十年以上働いておらず家にこもっています",
        "80代の母親と、無職の次男(49)の二人暮らし。次男は人と会うのを避けています",
        "工場が閉鎖になって52で職を失い、それから81の母の年金で暮らしています",
        # an age named by a word, and a middle-aged son who is never seen outside
        "米寿の母と還暦を迎えた兄の二人暮らし。兄は若い頃から働いたことがない",
        "隣は90近いおばあちゃんと60くらいの息子さん。息子さん昼間見かけたことない",
    ],
    "double_care": [
        "1歳の娘を育てながら、要介護2の義父の介護もしています。毎日くたくたです",
        "認知症の母の介護と、幼稚園に通う息子の世話で仕事も続けられそうにない",
        # a small child and a parent-in-law who needs care, at once
        "2歳の息子のイヤイヤ期と、同居の義母（認知症）の徘徊が同時にきてて、もうむり",
        "朝は父をデイに送り出して、それから下の子を保育園へ。夜は上の子の宿題",
    ],
    "young_carer": [
        "小6の息子が、足の不自由な祖母のトイレを毎朝手伝ってから学校に行きます",
        "中1の娘が、うつ病の母に代わって幼い弟の世話をしています",
        # the carer missing school, written as a one-line message (a writer of 14)
        "ばあちゃんのかいごで がっこう いけてない 中2",
        # a grade standing alone as a sentence signs the message: the writer is the carer
        "弟たちのごはん毎日つくってるのわたし。ママは病気で寝てる。小6。宿題やるひまない",
        # 「高2の孫が」: the grade and the role are one person, the subject of the care
        "高2の孫が、寝たきりの祖父の世話を一人で背負ってる",
        # a pupil named in a worker's note, and 「本人が」 for that pupil later on
        "学童の指導員です。小5の女の子が、母親が夜勤の日は眠れないと話していました。朝は本人が朝食を用意して妹を起こすそうです",
        "おじいちゃん ねたきり。わたしが おむつ かえてる。しょうがく5ねん",
        "わたし中1。パパ びょうきで ねてる。おとうとの ごはんも わたし",
        # the same child named again; an age that runs on into the next role is not his
        "上の子(小5)が言ってた。上の子がごはん作ってる",
        "元夫の家にいる中1の息子から電話。息子が4歳の妹の面倒を見ているそうです",
        "弟と妹のご飯とお風呂、全部私。中1",
        "中2です。弟が夜中にパニックになると私が対応してます",
        "高校生です。母が統合失調症で、薬の管理も買い物も全部私",
        # 「私がみてる」: the writer, a pupil, looks after a family member
        "高校生です。おばあちゃんが認知症で、親が仕事の間は私がみてる。部活もやめた",
        "姉が障害あってパニックになると俺がおさえてる。母さんは仕事。友達と遊べない。中1",
    ],
    "hikikomori": [
        "知人の息子さんが、もう何年も家から一歩も出ていないそうです",
        "弟は大学を中退してから、ずっと自分の部屋に引きこもっています",
        "兄（57）は外に出られない人で、救急車の呼び方もわからない",
        "25歳の娘、大学を中退してから3年、コンビニにも行かない",
        "娘は四十四歳で、うつ病で十年ほど家におります",
        "長男は専門学校を辞めて以来、もう7年ほぼ自宅で過ごしています",
        "姉(47)は15年近く家にいて、外出は夜のコンビニのみ",
        "兄がまた自分の部屋にこもり始めて、半年になります",
        "近所の人は誰も娘さんの姿を見たことがないそうです",
        "中2の息子、部屋から出てくるのは夜中の食事のときだけ",
        "高校を中退してから、自宅に閉じこもっている",
        "外に出るのは夜中のコンビニだけ。もう何年もこうです",
        "不登校の中3の息子、家族とも顔を合わせない",
        "訪問。本人（33）、自室にて面会。5年間外出なし",
        "発達障害のある息子（35）が就職できずに家にいます",
    ],
    "abuse": [
        "母親が小学生の息子を毎日叩いていて、体中にあざがあります",
        "2歳の子が夜中に一人で留守番させられていることが多いです",
        "同居の孫が祖母の年金を勝手に使い込んでいるようだ",
        "隣の部屋、小さい子ども2人が夜中もずっと泣いてる。親が二日くらい帰ってきてない",
        "甥が叔母（84）のキャッシュカードを持っていって、勝手にお金をおろしている",
    ],
    "dv": [
        "夫が毎晩のように私を殴ります。子どもたちも怯えています",
        "交際相手に首を絞められました。別れ話をすると暴れます",
        "元夫が家の前で待ち伏せしています",
    ],
    "suicide_risk": [
        "もう消えたい。何もかも終わりにしたい",
        "昨日、手首を切ってしまいました",
        "ベランダから飛び降りようかと考えてしまう",
        "消費者金融4社で200万。保険金で片付けられたらって最近そればかり",
        "身の回りの物を片付けて、猫の引き取り先も決めた。もう思い残すことはないです",
    ],
    "isolation": [
        "ここ数年、誰とも話していません。頼れる人もいません",
        "夫が亡くなってから身寄りがなく、天涯孤独です",
        "近所の一人暮らしの男性の家、ゴミが玄関まであふれています",
        "近所の家、庭にまでゴミ袋があふれてカラスが集まってる",
        "仕事をなくして半年、その間まともに人と話したのはコンビニのレジくらい",
        "独り身で、休日は一言も話さない。これでいいのかと思う",
        "足が悪くて一人暮らし。ヘルパーさん以外と話すことはほとんどない",
        "夫を亡くしてから、一人でいる時間がとても長くなった",
        "身寄りは県外の姪のみです",
        "隣の部屋、窓際までゴミが積み上がっている",
        "じいちゃん、最近は誰とも口きかねえで一日テレビ見てる",
        "私が急に入院することになったら、子どもを見てくれる人が誰もいません",
    ],
}

NEGATIVE = {
    "8050": [
        "父(83)と暮らす長男(51)は、毎朝元気に出勤しています",
        "無職の次男(29)がゲームばかりしています",
        # an elderly couple: the one who stays in is old, not the 「50」
        "夫婦ともに八十過ぎで、夫は足が弱って外に出られない",
        "息子(45)は知的障害がありますが、グループホームで自立して暮らしています。私(70)も元気です",
    ],
    "double_care": [
        "1歳の娘の夜泣きで毎日くたくたです",
        "要介護2の義父の介護で毎日くたくたです",
        "仕事と義父の介護が重なって毎日くたくたです",
        "保育士より。お迎えに来た母親の目の周りにあざ。子ども(3歳)の様子は普段と変わらない",
    ],
    "young_carer": [
        "小6の息子がサッカークラブに夢中です",
        "私が母の介護をしているあいだ、小6の息子は友だちと遊んでいます",
        "母の介護で仕事を休みがちです。高校生の息子は部活に通っています",
        "おかあさんがごはんつくってくれない。しょうがく3ねんせい",  # cooking done for the writer
        "高1。親が共働きだから夕飯当番を週2でやってる。料理けっこう楽しい",
        "高校生の息子がお風呂掃除とゴミ出し担当。おこづかい制にしたら張り切ってる",
        "中2です。全部私が悪いんです",  # everything is my fault: no care
    ],
    "hikikomori": [
        "息子は春から一人暮らしを始めて、毎日楽しそうに大学へ通っています",
        "週末は家でゆっくり過ごすのが好きです",
        "母(88)は足が悪くて外に出られない",
        "娘(小4)が不登校で、私は失業中。昼間ずっと二人で家にいて息がつまりそう",
        "息子さんがいると聞いていますが、一度も見かけたことがありません",
        "ひきこもりではないんですが、在宅ワークで家から出ない日が多いです",
    ],
    "abuse": [
        "昨日の虐待のニュースを見て胸が痛みました",
        "子どもを叱りすぎてしまったかもと反省しています",
        "小1の息子が友達を叩いてしまうと担任から言われました",
        "3歳の子に手を上げそうになる自分が怖い",
        "80代の男性、セルフネグレクトの状態です",
        "すねのあざはサッカーの練習でできたものでした",
        "母(80)は物をなくすたびに私が盗ったと言う",  # は|物 is no 刃物 read by sound
    ],
    "dv": [
        "夫は家事も育児も手伝ってくれて、とても助かっています",
        "夫婦で旅行に行く計画を立てています",
    ],
    "suicide_risk": [
        "仕事が忙しくて死ぬほど疲れた",
        "友だちの結婚式で泣きすぎて目が腫れました",
        "入院費は保険金で払えました",
    ],
    "isolation": [
        "毎日友達とお茶を飲んで楽しく過ごしています",
        "近所の人がよく声をかけてくれるので安心です",
    ],
}


@pytest.mark.parametrize(
    ("pattern", "text"), [(p, t) for p, texts in POSITIVE.items() for t in texts]
)
def test_pattern_positive(pattern, text):
    result = triage(text, "atsuma")
    assert pattern in result.patterns, quoted(result)
    assert any(e.label == pattern for e in result.evidence)


@pytest.mark.parametrize(
    ("pattern", "text"), [(p, t) for p, texts in NEGATIVE.items() for t in texts]
)
def test_pattern_negative(pattern, text):
    result = triage(text, "atsuma")
    assert pattern not in result.patterns, quoted(result)


def test_every_pattern_has_cases():
    assert set(POSITIVE) == set(NEGATIVE) == set(PATTERNS)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        # Stalking by an ex-partner, across a clause break.
        ("元夫が今の住まいを突き止めて、待ち伏せしています", "dv"),
        # A beaten child who also wants to die keeps abuse (and 189).
        ("中学生です。父に毎日殴られています。もう死にたい", "abuse"),
    ],
)
def test_pattern_positive_across_clauses_and_patterns(text, pattern):
    result = triage(text, "atsuma")
    assert pattern in result.patterns, quoted(result)


@pytest.mark.parametrize(
    "text",
    [
        "びっくりして死ぬかと思った",
        "暑くて死にそう",
        "びっくりして私も死ぬかと思った",
        "地域の団体と連携していきたいと考えています",  # いきたい is no 逝きたい
    ],
)
def test_figures_of_speech_about_dying_are_not_suicide_risk(text):
    result = triage(text, "atsuma")
    assert "suicide_risk" not in result.patterns, quoted(result)
    assert not result.urgent


# --- urgent kinds ------------------------------------------------------------------------

URGENT_POSITIVE = {
    "suicide_risk": [
        "ホームセンターでロープを買ってきた。どこに結ぶかまで考えてる",
        "橋の上さ立ってたら、ここから飛べば楽になるっしょって思ってしまった",
        "借金ばっかで、首くぐるしかねえべって思ってる",
        "もう疲れた。朝起きなければいいのに",
        "「返せなければ保険金で払うしかない」と話す",
        "「声が死ねと言う」「今日橋の上まで行った」と話す",
        "睡眠薬ためてある。使うかは決めてない",
        "眠れない時の薬、少しずつためてる",
        "おらもう90だ。眠れねぇ時の薬、ちょっとずつためでんだ",
        "もう消えたい。何もかも終わりにしたい",
        "薬をまとめて飲んで死のうと思っている",
        "ODしちゃった。いまちょっと気持ちわるい",
        "正直、自分の保険金が入れば家族は助かるのかなと考えてしまいます",
        "もう誰にも迷惑かけたくない。身の回りのものは全部片付けた",
        # a farewell together with things handed over
        "友達からLINEで『今までありがとう。うちの猫、これからはあなたが面倒みてあげて』って来た",
        "兄が大事にしてたギターを全部人にあげてるらしい。電話すると『もう疲れた』しか言わない",
        "九十の婆です。迷惑ばかりで、いっそ自分で終わらせようかと毎晩考えます",
        "ベランダで下を見てたら、ここから落ちたら楽になるのかなって本気で考えてました",
        "明日の朝にはもうここにいないと思います。最後に誰かに言っておきたかっただけです",
        "最近、処方された薬を飲まずに少しずつ貯めています",
        "保険の受取人を妹に書き換えた。これで借金も片付くと思う",
        "84になりました。もう十分生きたと思う。ロープも物置に用意してある",
        "車で橋を渡るたび、このままハンドルを切ったら全部終わるのにと思ってしまう",
        "統合失調症の40代男性、昨日から『家族を守るために死ぬ』と繰り返している",
        "過食嘔吐がとまらない。今日も吐いたあとリスカした",
        "放デイの職員です。小6の子が『もう生きてたくない』と何度も言いました",
        "店がつぶれた。保険金で妻と子が助かるなら、それでいいと思ってる",
        "夜の橋から川を見ていたら吸い込まれそうで、欄干の柵に手をかけていた",
        "娘の腕に切り傷がいくつもあって、聞いても黙っている",
        "彼氏が、別れるなら手首切るって言う。先週は本当に切った",
        "介護に疲れた妻が『あなたと一緒に逝きたい』と言い、枕元に薬を並べていた",
        "『どうせ死ぬんだから放っておいて』とドア越しに言われ、部屋から炭を燃やしたにおいがした",
        "幻聴が死ねとずっと言ってくる。一人暮らしで、今日は薬も飲んでいない",
        "このままでは父を殺して自分も死ぬことになりそうで怖い",
        "長いあいだありがとうございました。犬のことを誰かにお願いしたいです。玄関の鍵は開けておきます",
        "服も家具も身の回りのものはみんな処分した。もう誰にも迷惑かけないから",
        "もし僕がいなくなったら、家族は楽になると思う",
        "友人から『今までありがとう、さよなら』とだけLINEが来た",
        "今夜が最後の夜。もう生きてる理由がない",
        "介護に疲れた。妻を連れて一緒に逝こうかと思う",
        "夫を亡くしてから誰とも話さない。今朝は台所でロープを手に取ってしまった",
        "ロープはもう買ってあります",
        "納屋の農薬を飲めば楽になる",
        "亡くなった夫のところへ行く方法ばかり調べている",
        "祖母が『早くお迎えが来てほしい』と言う",
        "手持ちの薬を全部机に並べてある",
        "高2の生徒の手首に新しい切り傷がある",
        "一人暮らしの男性が愛用の道具を近所に配って回り、長いこと世話になったなと言っていた",
        "いっそ三人で一緒に…と考えてしまう夜がある",
        "もう疲れた。借金取りからの電話ばかり。明日、海に行こうと思ってる",
        "友達から『もう無理、今から死ぬ』ってLINEがきた",
        "後輩がSNSに『今日で終わりにする』と書いていた",
        "おら八十五、もう生ぎでる意味ねぇ。薬いっぺぇ飲めば楽になっぺか",
        "下の階の人が『もう死ぬ』って叫んでて、急に静かになった",
        "86歳の父が『迷惑かけたくないから首でもくくる』と言い出した",
        "毎日ロープの結び方を調べてしまう",
        "介護に疲れた。夫を道連れにしてしまいそうで怖い",
        "今日ロープ買ってきた",
        "おかあさんがねてて、よんでもおきない。くすりのからがいっぱいおちてる",
    ],
    "abuse": [
        "隣の部屋から小さい子の泣き声と、大人の怒鳴り声が続いている",
        "上の階、赤ちゃんの泣き声が2日続いてるのに親の出入りする気配がない",
        "ﾊﾟﾊﾟにﾀﾊﾞｺおしつけられた ｳﾃﾞがいたい しょうがっこう5ねん",
        "隣のばあちゃん、息子さ毎日ごしゃがれで、昨日は外さ締め出されで夜中まで玄関の前さいだっけ",
        "しょうがくせいです おかあさんが きのうから かえってこない ひとりで こわい",
        "むすこ が わたし の つうちょう を もって いって かえして くれません。 83さい",
        "デイ利用のたびに背中や上腕に新しい皮下出血。同居の長男は『言うことを聞かないから』と",
        "担当の利用者さん（86歳女性）の年金を、同居の無職の次男（58）が全部使ってしまい",
        "隣の家から毎晩、子どもの泣き叫ぶ声と叩く音が聞こえます",
        "ヘルパーさんが来た日は、財布のお金が減っている",
        "母の彼氏が、小6の娘の体を触ってくる",
        "施設にいる母の通帳から知らない間にお金が引き出されている",
        "近所の小2の子、いつもお腹を空かせている",
        "訪問すると、おむつは濡れたまま食事もとっていない様子",
        "施設の母が、夜になると職員が部屋に来て嫌なことをされると言う",
        "隣のおばあちゃんに娘が『早く死ね』『穀潰し』と怒鳴っている",
        "寝たきりのおじいさん、おむつもそのまんまらしい",
        "3歳の子がベランダで泣いている。親は2日帰ってきてない",
        "学校なんか行かなくていいと母親に言われ、欠席が続いている小6",
        "保育園くらいの子が夜遅く一人でいた。『ママいない』って",
        "おかあさん きのうのよるから かえってこない。おなかすいた",
        "訪問記録：父(90)寝たきり、おむつ交換も1日1回程度",
        "寝たきりのおばあさんの家から『水、水』って声がずっとする",
        "おかあさんのかれしが おふろに はいってくる。いやって いっても やめてくれない",
        "小学生3人、何日も入浴しておらず虫歯も放置",
        "ママがきのうのよるからかえってこない。れいぞうこになにもない",
        "ケアマネ記録：認知症の妻が寝室に外から鍵をかけられていた",
        "祖母の通帳に見覚えのない引き出しが何回もある",
        "同居の娘さんが3日間食事を出していない。ベッドも尿で濡れたまま",
        "長男が襖越しに「年金よこせ」と大声",
        "隣から男の人の「ぶっ殺すぞ」って怒鳴り声",
        "夜泣きがひどくて、さっき赤ちゃんを強く揺さぶってしまった",
        "小2の子が夜10時すぎに一人でコンビニの前にいた。ママいないって言ってる",
        "お父さんもお母さんも家にいない。きのうから帰ってきてない。弟とふたり。小4",
        "小5の子が、給食の残りを持ち帰ろうとしていた",
        "兄が祖母(88)の年金袋から勝手に金を抜いていく",
        "同居の甥に母(91)の年金を全部使われている",
        "中1の娘が、母親の彼氏が夜に部屋へ入ってくるから帰りたくないと言う",
        "80代の母が同居の息子に叩かれているようです",
        "隣の家から毎晩子どもの泣き声と大人の怒鳴り声が聞こえる",
        "母の年金 兄が全部使ってる",
        "夫が子ども(4歳)にご飯をあげなくて、私が夜勤の日は何も食べさせてないみたいです",
        "同居の父から介助を拒否され、トイレに行けないまま長時間放置されることが続いている",
        "包括より。年金を同居の次男が管理し、本人に渡していない",
        "上の階から毎晩子どもの叫び声。ベランダに裸足で出されてるのも見た",
        "知的障害のある弟が、先輩たちに携帯を何台も契約させられて、借金が増えています",
        "小学校の教員です。2年生の女の子が、家ではご飯が出ないことがあると言いました",
        "祖母の年金、叔父さんが全部持ってってしまうんです",
        "病院に行きたいと言っても長男に行かせてもらえません",
        "小5の女の子が『今日は家に帰るのがこわい』と泣いています",
        "中2の娘が『お父さんに夜、部屋に来られるのがいや』と打ち明けてきました",
        "夜10時過ぎても、隣の家の3歳くらいの子がベランダで泣いてる",
        "母(81)は認知症。行くたびにおむつのまま放っておかれてて、食事もしてないみたい",
    ],
    "dv": [
        "元夫と離婚して半年。昨夜は家の窓の下に立ってた。新しい住所は教えてないのに",
        "旦那にまたやられた。鼻血が止まんない",
        "旦那に今日も叩がれだ。いま車の中さ逃げでる",
        "58歳の母が、父から物を投げつけられたり怒鳴られたりしてる",
        "夫が飲むと首をしめてくる",
        "旦那アル中。さっきも酒買う金出せって髪つかんで引きずられた",
        "夫に殴られて顔が腫れています。家に帰るのが怖い",
        "彼氏に別れたら殺すって言われています",
        "夫に車の鍵も取り上げられました。実家に電話するのも禁止されています",
        "別れた夫が、いまも夜になると家の周りをうろついている",
        "夫に『誰のおかげで暮らせてると思ってる』と毎日言われる",
        "夫は怒ると私の車椅子を隠してしまう",
        "夫から生活費を渡してもらえず、外出も禁じられています",
        "別れた夫から毎日何十件もメッセージが来る",
        "隣の部屋から毎晩、男女の怒鳴り声がする",
        "My husband hit me. I am in the car with my baby.",
        "My husband hits me and took my bank card.",
    ],
    "no_food": [
        "子ども3人の夕ご飯がありません",
        "もうお金が尽きて、今夜のミルクも買えない",
        "財布なくしてそれが全財産だったっちゃ 今日食うもんねえ",
        "子どもにごはん食べさせるお金が今日ない",
        "今日食べるものが何もなくて、財布には50円しかありません",
        "昨日から何も食べていません。お金もありません",
        "食うものねぐなって三日たつ",  # Tohoku: ねぐ is ない, not 祈ぐ (pray)
        "ごはんない",
        "ｺﾄﾞﾓがﾈﾂだしてる くすり買うおかねない",
        "いま　おかねが　なくて　きょうの　ごはんが　かえません",
        "赤ちゃんの粉ミルクがあと1回分しかない。お金もない",
        "今日で食べるものがなくなりました",
        "仕事もないまま、今日で米もなくなった",
        "今日で所持金32円",
        "明日の朝ごはんもない",
        "今日でお金が尽きた。何も買えない",
        "家にあるお金が今日の夜ごはんの分しかない",
        "食事もパンの耳だけ",
        "I have 500 yen and no food for my kids today.",
        "年金が入るまで1週間、家にあるのはカップ麺2つだけ",
    ],
    "no_shelter": [
        "15歳です。施設から逃げてきた。もう戻りたくない。今夜どうしよう",
        "借りてた家の契約が切れて今日出た。なんもあてがない",
        "今夜泊まるところがなくて、公園で寝るしかないです",
        "今日寝るとこない",
        "家賃が遅れていたら、大家さんが今日中に鍵を替えると言って、荷物を外に出しはじめています",
        "アパートを追い出されて、今日寝る場所がありません",
        "アパートは今日出なきゃいけない。子ども2人と車で寝るしかない",
        "ネカフェに5日いたけど、今夜から行くとこない",
        "I lost my job and tonight I have nowhere to sleep",
    ],
    "lifeline_cut": [
        "ボイラーが壊れて暖房が使えない。今夜はマイナス10度の予報",
        "在宅酸素を使っている父の家、電気代の滞納で今日止められました。酸素濃縮器が動いていません",
        "なまらしばれるのに灯油もう空っぽで買う金もないんだわ 今夜ストーブつけれない",
        "部屋の電気がつかない。料金ずっと払えてなかったから止められたんだと思う",
        "電気もガスも止められて、真っ暗な部屋にいます",
        "水道を止められて水が出ません",
        "高齢のご夫婦の家、灯油のタンクが空で暖房なし",
        "電気代を払えず、明日電気を止めると言われた。娘のたんの吸引器が電気で動いている",
        "ガス代を払えず、明日ガスを止めると言われた",
        "灯油代が払えず昨日からストーブを止めている",
        "とうゆが きのうで なくなって ストーブが つきません。さむくて ねむれなかった",
        "灯油買う金なくて、ストーブ焚けない",
    ],
    "fraud": [
        "母(80)が、孫を名乗る男から電話で『今日中に200万必要』と言われ、今から銀行に行くと言っている",
        "業者を名乗る男が一人暮らしの父の家に上がり込んで、いま契約書にハンコを押させようとしている",
    ],
    "no_medical": [
        "子どもが熱が40度ある。保険証がなくて病院に行けない",
        "むすこ ねつ 39ど。ほけんしょう ない",
    ],
    "no_carer": [
        "母(92)が今日退院してきた。私一人ではベッドから起こすこともできない",
        "明日退院予定の父(88)、一人暮らしで、娘は遠方ですぐには来られない",
        "母が急に入院することになった。明日から知的障害のある弟が一人になるが、一人ではご飯も作れない",
        "明日から私が手術で入院する。同居の父(90)をみる人が誰もいない",
        "祖母が救急搬送されて入院となった。孫(19)は軽度の知的障害があり、料理はできず財布も数百円",
        "医療的ケアが必要な娘を見ていた妻が救急車で運ばれた。娘の吸引ができる人がいない",
        "妻を介護していた夫が今朝救急搬送された。妻は一人では服薬も食事の準備もできず、今夜から家に誰もいなくなる",
        "夫が今朝救急搬送された。認知症の妻が家に一人残されている",
    ],
    "unreachable": [
        "認知症の母がいなくなりました。近所を探しています",
        "認知症の夫の姿が見当たらない",
        "認知症の父が朝から帰ってこない。財布も携帯も置いたまま出ていった",
        "小2の息子が学校から帰ってこない。もう夜7時",
        "したっけさ 隣のじっちゃん 雪はねもしてなくて玄関埋まってるんだわ",
        "つま が たおれました いき してるか わかりません ふたり とも 90 です",
        "郵便配達員から：おじいさんが『ばあさんが起きてこない』と玄関で困っていた",
        "80のじいちゃんがたおれた うごかない どうしよう",
        "となりのおばあちゃん今週いちども見てなくて新聞もたまってるしチャイム押しても出てこないんだけど",
        "お隣さん 宅配便 たまってる もう1週間 ひとりぐらしの おばあさん",
        "雪で道がふさがって、年寄り夫婦の家に誰も行けてない。電話も通じない",
        "一人暮らしの方が、今日は中から『うー』という声がするだけで鍵が開きません",
        "妻が倒れて救急搬送されました。今夜から娘と母をどうすればいいか分かりません",
        "新聞配達です。一人暮らしのおじいさんの郵便受け、3日分の新聞が取られていません",
        "一人暮らしの父が3日前から電話に出ません",
        "向かいの一人暮らしのおばあさん、新聞がたまっていて呼び鈴を押しても返事がない",
        "母が台所で倒れていて、呼んでも動かない",
        "夜中に母が家を出ていった。近所を探したけど見つからない",
        "一人暮らしの方の部屋、中から弱々しい声で起き上がれないと聞こえる",
        "一人暮らしのおじいさん、ピンポンしても出てこない",
        "庭先に座り込んでいて、声をかけても会話にならない",
        "認知症の父が昨夜から帰ってきていない",
        "弟が三日前から帰ってこない。携帯も置いたまま",
        "チャイムを押しても誰も出てこない。一人暮らしの高齢の方です",
        "ガスのメーターがこの2週間ほとんど動いていない",
        "ポストから郵便があふれている",
        "父が昨日の夜から水もほとんど飲めていない",
        "ﾀｽｹﾃ ｵﾔｼﾞ ﾀｵﾚﾀ ｲｷ ﾍﾝ",
        "母ちゃんが朝から起きない",
        "両親が亡くなってから兄は誰にも世話されず、食事もとれていない",
        "毎朝来ていたおじいさんが、もう1週間来てない",
        "おばあちゃんが部屋で寝たまま朝から起きない",
        "16歳です。たぶん陣痛だと思う。妊娠は誰にも言ってない",
        "げんかんに しらない おばあさん。パジャマで はだし。じぶんの なまえ わからないって",
        "タクシーに乗せた高齢の男性が、行き先を言えなくなってしまった",
        "ばあちゃん ころんで おきられない。まごです 8さい",
        "母の姿を1か月以上見ていない。息子は玄関越しに「寝てる」と言うだけ",
        "ここ数日ずっとテレビの音がする。住んでいる人の姿は見えない",
        "小4の男の子から電話。家でお母さんが倒れて動かないそうです",
        "おっと たおれた。いき してる けど へんじ ない",
        "向かいのじいちゃん、もう三日も姿見えねぇんだわ",  # Tohoku: 見えない
        "隣のおじいさん、旅行に行くと言っていたのに、帰る予定の日から3日連絡がとれない",
        "おとうさんが ねたきりで よんでも へんじが うすいです",
        "じいちゃん徘徊してまだ見つからない",
        "母が台所で転んで起き上がれないと電話がきた",
        "ばっちゃ ころんで おぎれねぇ",  # Tohoku: 起きれない
        "兄貴、さっき電話したら呂律まわってなくて、そのあと全然出ないんだわ",
        "認知症の父が今朝散歩に出たまま戻りません。もう6時間になります",
        "隣のおじいちゃん、チャイム鳴らしても出てこない。昨日の配食のお弁当が置いたままになってる",
        "息子さんから『母が動かない』と電話がありました",
        "高校生です。お父さんが倒れて息してるかわからない。どうしよう",
        "ママがおきない。きのうのよるからずっとねてる。わたし小3",
        "一人暮らしの伯母と連絡が取れなくなって5日経ちます",
    ],
}

URGENT_NEGATIVE = {
    "suicide_risk": [
        "死ぬほど笑った",
        "祖父が老衰で亡くなって一年になります",
        "会議で大失敗して穴があったら入りたい、消えたい気分ｗ",
        "ドラマで『死にたい』って言う高校生の役があって、娘が泣いてた",
        "発表会でセリフ飛んで死にたいくらい恥ずかしかったｗ",
        "町内会の役員を押し付けられて、死にたいくらい面倒",
        "清水の舞台から飛び降りるつもりで相談します",
        "いま橋の上！花火がきれい",
        "娘がよく聴く歌の歌詞が『消えてしまいたい』みたいなのばかり",
        "小説で、主人公が遺書を書くシーンを書いています",
        "仕事でもう疲れた。週末は海に行こうと思ってる",
        "亡くなった父の家の遺品整理が大変",
        "庭で炭を燃やしてバーベキューした",
        "薬を並べて飲み忘れを防いでいます",
        "この薬を飲めば楽になるって先生が言ってた",
        "市役所のところへ行く方法を教えて",
        "いっそ引っ越そうかと考えてしまう",
        "利用者の妻が介護疲れで眠れないと。死にたいとかの発言はない",
        "『死にたい』で検索したらこの窓口が出てきたんですが、小説の主人公の気持ちを調べていただけです",
        "中学のころリスカしてたけど、今はもう何年もしてない",
    ],
    "abuse": [
        "子どもの泣き声がうるさいと、隣の人に怒鳴られた",
        "子どもの腕のあざ、病院で診てもらったら生まれつきの血管腫でした",
        "一人暮らしの方、最近足を引きずっていて心配です",
        "腕の皮下出血について、抗凝固薬の服用で出血しやすいとの説明あり。虐待の所見なし",
        "利用者さん（82）の腕のあざは本人の転倒によるもので、ご家族からの虐待はありません",
        "子どもに手を上げたことは一度もありません",
        "虐待の研修に参加しました",
        "民生委員の研修で高齢者虐待の事例検討をしました",
        "息子(3)の足のあざ、公園の滑り台から落ちてできたものです",
        "学童の小3の子が『家に帰りたくない』と言うので理由を聞くと、ピアノの練習だった",
        "過去に虐待通告歴のある世帯(R3年度に終結)。長女は元気に登校している",
        "年長の男の子、あざはサッカー教室で転んだものと保護者とコーチの双方から確認できた",
        "うちの孫(小4)が、ばあちゃんの肩もみしてけるのが楽しみでな",  # Tohoku: してくれる
        "反抗期の息子が『うるせぇ、殺すぞ』とか言ってくる",
        "小さい頃に親からよく叩かれていました。今は40代です",
        "地域の見守りボランティアに手をあげたいです",
        "施設の母がベッドから落ちて腕にあざができたと報告があり、もう治っています",
        "兄弟げんかでお兄ちゃんがすぐ弟を叩く",
        "虐待の通報って匿名でもできますか？町内会の研修で聞かれて",
        "サッカーの練習で、すねに大きいあざを作ってきた",
        "無理に学校なんか行かなくていいと娘に伝えました",
        "デイで他の利用者さんから叩かれたと母が言っていたが、フロアを分けてもらい、それ以降はない",
    ],
    "dv": [
        "夫とはうまくいっています。暴力などはありません",
        "夫婦げんかのあとは必ず話し合います",
        "ドラマで夫が妻を殴るシーンがリアルだった",
    ],
    "no_food": [
        "今月は食費を切り詰めています",
        "ダイエットで夜は食べないようにしています",
        "年金が月5万円しかなく、家賃を払うと苦しい",
        "夕食はカップ麺だけで済ませた",
        "家に米がなくなることがあると本人が話しています",
    ],
    "no_shelter": [
        "来月で今のアパートの契約が切れるので、引っ越し先を探しています",
        "家賃が高いので、もう少し安い部屋に移りたい",
        "去年の冬は車中泊をしていたが、今は市営住宅に住んでいる",
    ],
    "lifeline_cut": [
        "ストーブが壊れたので新しいのを買いました。今夜はマイナス10度だそうです",
        "ベランダに出たら外は真っ暗だった",
        "台風で停電しています",
        "電気代の督促状が届いた。来週止まるかもしれない",
        "水道止めますって紙が入ってた。来週の金曜までに払えって",
        "人工呼吸器を使っている息子がいる。停電になったらどうなるのか",
        "電気を止められてたけど、さっき払ってもう点きました",
    ],
    "fraud": [
        "去年、息子を名乗る電話で詐欺にあった。今は家族で気をつけている",
        "詐欺の電話に気をつけるよう、町の放送がありました",
    ],
    "no_medical": [
        "子どもが熱を出したが、病院でもらった薬で下がった",
        "子どもが高熱で入院した。お金がないので医療費が心配",
        "保険証をなくしたので再発行の手続きを知りたい",
    ],
    "no_carer": [
        "父が明日退院します。母と私で見るので大丈夫です",
        "母が入院することになったので、明日から一人暮らしを楽しみます",
        "父が救急搬送されたが、すぐ退院した。一人でも大丈夫",
    ],
    "unreachable": [
        "認知症の母の世話をする人がいなくなったので、施設を探しています",
        "隣のおばあちゃんが庭で倒れてたけど、すぐ救急車を呼んで、今は入院して回復中",
        "郵便がたまっていたので確認したら、ショートステイを利用中でした",
        "毎週日曜に父に電話しています",
        "隣のおばあさんを最近見かけないと思っていたら、娘さんの家に泊まりに行っていただけでした",
        "妊娠してるっぽい。相手とは連絡つかなくなった",
        "一人暮らしの兄と連絡が取れないと思っていたら、入院していたと病院から連絡がありました",
        "訪問。D氏(72・男)独居。室内ゴミ堆積、玄関まで袋が積まれ異臭あり。本人在宅、会話は可能",
        "新聞が3日分たまっていたが、ご家族から旅行中との連絡があり配達を止めた",
        "民生委員から応答がないと連絡あり。確認したところ入院中と長女より連絡があり、安否確認済み",
        "U様(81)、電話にも出ないことが多いが、宅配弁当は毎日受け取っている",
        "じいちゃんの買い物はたまに手伝う。親もふつうにいる",  # ふつう is not 不通 (no answer)
        "先週父が倒れて救急搬送されたけど、今は普段通りです",
        "妊娠したけど彼と連絡が取れない。母子手帳はどこで？",
        "近所の50代の男性、挨拶しても返事がない",
        "民生委員です。新しく転入した世帯、訪問しても不在が多い",
        "兄の既読が3日つかなかったけど、さっき返事がきました",
        "精神科の通院歴はあるが数年途絶えている",
        "母と連絡がつかなかったけど、スマホの充電が切れていただけでした",
        "新聞がたまってるけど、お盆で家族旅行に行くと聞いています",
        "裏の家の50代の息子さん、もう何年も姿を見てない",
        "隣のおばあちゃんちの新聞がたまってたけど、娘さんのところに泊まりに行くって聞いてた",
        "息子が休みの日は朝から起きない",
        "母が電話に出ないと思ったら、温泉旅行に行ってたらしい",
    ],
}


@pytest.mark.parametrize(
    ("reason", "text"), [(r, t) for r, texts in URGENT_POSITIVE.items() for t in texts]
)
def test_urgent_kind_positive(reason, text):
    result = triage(text, "atsuma")
    assert result.urgent, quoted(result)
    assert reason in result.urgent_reasons, quoted(result)
    assert result.emergency, "an urgent result names at least one line"
    assert any(e.label == "urgent" for e in result.evidence)


@pytest.mark.parametrize(
    ("reason", "text"), [(r, t) for r, texts in URGENT_NEGATIVE.items() for t in texts]
)
def test_urgent_kind_negative(reason, text):
    result = triage(text, "atsuma")
    assert reason not in result.urgent_reasons, quoted(result)
    assert not result.urgent, quoted(result)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("虐待の研修に参加しました", "abuse"),
        ("虐待防止の研修に参加しました", "abuse"),
        ("DV防止のポスターを見ました", "dv"),
        ("ひきこもり支援の講座に参加しました", "hikikomori"),
        ("読書会で小説のDV描写が話題になりました", "dv"),
    ],
)
def test_a_word_talked_about_is_not_a_situation(text, pattern):
    result = triage(text, "atsuma")
    assert pattern not in result.patterns, quoted(result)
    assert not result.urgent


def test_every_urgent_kind_has_cases():
    kinds = {
        "suicide_risk",
        "abuse",
        "dv",
        "no_food",
        "no_shelter",
        "lifeline_cut",
        "unreachable",
        "no_carer",
        "fraud",
        "no_medical",
    }
    assert set(URGENT_POSITIVE) == set(URGENT_NEGATIVE) == kinds


@pytest.mark.parametrize("text", ["父の家に電話しても3日前から誰も出ない"])
def test_urgent_unreachable_far_from_the_call(text):
    result = triage(text, "atsuma")
    assert "unreachable" in result.urgent_reasons, quoted(result)


def test_urgent_reasons_match_urgent():
    for text in ["電気が止まっている", "こんにちは", "もう死ぬしかない", "借金がある"]:
        result = triage(text, "atsuma")
        assert result.urgent == bool(result.urgent_reasons)


# --- emergency lines ---------------------------------------------------------------------


def test_suicide_lists_kokoro_and_yorisoi():
    result = triage("もう生きていたくない。死にたい", "atsuma")
    assert {"kokoro", "yorisoi"} <= line_ids(result)
    assert "child-abuse" not in line_ids(result)


def test_dv_lists_dv_navi():
    result = triage("夫に殴られて、子どもを連れて逃げたい", "atsuma")
    assert "dv" in result.patterns
    assert "dv-navi" in line_ids(result)


def test_child_abuse_lists_189():
    result = triage("隣の家の3歳の子が毎日叩かれて泣き叫んでいます", "atsuma")
    assert "abuse" in result.patterns
    assert "child-abuse" in line_ids(result)
    numbers = {line.number for line in result.emergency}
    assert "189" in numbers


def test_fraud_lists_the_police_and_188_not_an_ambulance():
    text = "父(85)が、役所を名乗る電話で還付金があると言われ、今からATMに向かっている"
    result = triage(text, "atsuma")
    assert result.urgent_reasons == ("fraud",), quoted(result)
    assert {"police", "consumer-hotline"} <= line_ids(result)
    assert "ambulance" not in line_ids(result)


def test_a_sick_child_without_care_lists_8000_and_the_ambulance():
    result = triage("子どもが熱が40度あるのに、保険証がなくて病院に行けない", "atsuma")
    assert "no_medical" in result.urgent_reasons, quoted(result)
    assert {"child-medical", "ambulance"} <= line_ids(result)
    assert "police" not in line_ids(result)


@pytest.mark.parametrize(
    "text",
    [
        "80代の母が同居の息子に叩かれているようです",
        "寝たきりの祖母がおむつも替えてもらえず放置されている",
    ],
)
def test_elderly_abuse_lists_the_town_not_189(text):
    result = triage(text, "atsuma")
    assert "abuse" in result.patterns
    assert "elderly" in result.domains and "child" not in result.domains
    assert "child-abuse" not in line_ids(result)
    assert "atsuma-fukushi-tel" in line_ids(result)


@pytest.mark.parametrize(
    "text",
    [
        "母が認知症で、最近は同じ話ばかりします",
        "子どもが不登校で悩んでいます",
        "家賃を2か月滞納しています",
        "息子が何年も部屋から出てこない",
        "こんにちは",
    ],
)
def test_a_non_urgent_text_lists_no_line(text):
    result = triage(text, "atsuma")
    assert not result.urgent
    assert result.emergency == ()


# --- the general window: nothing is refused ----------------------------------------------


@pytest.mark.parametrize(
    ("municipality", "body"), [("atsuma", "atsuma-fukushi"), ("tomiya", "tomiya-hoken-center")]
)
@pytest.mark.parametrize(
    "text",
    [
        "こんにちは",
        "。",
        "😊",
        "test",
        "どこに相談したらいいのかわかりません",
        "最近なんとなく気持ちが沈みがちで、話を聞いてほしい",
    ],
)
def test_a_text_with_no_domain_goes_to_the_general_window(municipality, body, text):
    result = triage(text, municipality)
    assert result.domains == ()
    assert result.route == "general"
    assert result.body.id == body
    assert result.body.name
    assert result.involved == ()
    assert not result.compound


@pytest.mark.parametrize(
    ("text", "route", "body"),
    [
        ("母が認知症で、最近は同じ話ばかりします", "elderly", "atsuma-houkatsu"),
        ("息子に知的障害があり、療育手帳を持っています", "disability", "atsuma-shogai"),
        ("子どもが不登校で悩んでいます", "child", "atsuma-kodomo"),
        ("家賃を2か月滞納しています", "poverty", "atsuma-jiritsu"),
        ("認知症の母の年金だけでは家賃が払えません", "coordinator", "atsuma-tajikan"),
        # 認知 for 認知症, as carers say it
        ("母 認知 すすんで 夜ねない", "elderly", "atsuma-houkatsu"),
        ("水道が止まるって通知がきた。払える見込みがない", "poverty", "atsuma-jiritsu"),
        # a noun with a suffix (妊娠中) before a space, as terse messages have it
        ("妊娠中 夫に蹴られた", "child", "atsuma-kodomo"),
        ("スマホ代が払えなくて止まった", "poverty", "atsuma-jiritsu"),
        ("給料だけで食べさせるのがやっとです", "poverty", "atsuma-jiritsu"),
        ("金ない たすけて", "poverty", "atsuma-jiritsu"),
        ("わたし びょうき 仕事 できない。家賃 2か月 はらってない", "poverty", "atsuma-jiritsu"),
        ("家賃を先月から払ってないです", "poverty", "atsuma-jiritsu"),
        ("ﾅﾏﾎﾟ ﾄﾘﾀｲ ﾄﾞｺ ｲｹﾊﾞ", "poverty", "atsuma-jiritsu"),
        ("仕事もなくして、家族にも見放された", "poverty", "atsuma-jiritsu"),
        ("家賃もどうにもならず", "poverty", "atsuma-jiritsu"),
        ("JKです。リスカやめられない", "child", "atsuma-kodomo"),
        # a pupil with nowhere to sleep is a child to protect, not a household in want
        ("家を出てきた中3女子です。ほかに行くところがない", "child", "atsuma-kodomo"),
        ("精神保健福祉手帳の2級が交付されました", "disability", "atsuma-shogai"),
        ("夫のお酒が止まりません。断酒会は近くにありますか", "disability", "atsuma-shogai"),
        ("シングルで小学生2人。給食費が3か月たまってて", "coordinator", "atsuma-tajikan"),
        ("住宅ローンがまだ20年残っているのに、退職を勧められた", "poverty", "atsuma-jiritsu"),
        ("今月のカードの引き落としは無理そうです", "poverty", "atsuma-jiritsu"),
        ("高校生です。バイト代で家の電気代を払っています", "coordinator", "atsuma-tajikan"),
        ("パート代と年金だけじゃやっていけない", "poverty", "atsuma-jiritsu"),
        ("借金取りが毎日家に来る", "poverty", "atsuma-jiritsu"),
        # cut off for want of money, then paid: still a household in want, no longer urgent
        ("電気を止められてたけど、さっき払ってもう点きました", "poverty", "atsuma-jiritsu"),
        # a parent in a care home is elderly; a school fee out of reach, maintenance stopped
        ("施設の面会に行ったら父の腕にあざがたくさんあった", "elderly", "atsuma-houkatsu"),
        ("母が入ってる施設に電話したけど、つながらなかった", "elderly", "atsuma-houkatsu"),
        ("隣のばんちゃん、寝たきりで心配", "elderly", "atsuma-houkatsu"),
        # a word's ending and the next word across a space spell no 多動 (タ ドウ)
        ("ﾁﾁ 85ｻｲ ﾆﾝﾁｼｮｳ ﾄｲﾚ ｼｯﾊﾟｲ ﾌｴﾀ ﾄﾞｳｼﾀﾗ", "elderly", "atsuma-houkatsu"),
        ("ｼｺﾞﾄﾔﾒﾃ ﾁｮｷﾝﾓﾂｷﾃｷﾀ", "poverty", "atsuma-jiritsu"),
        # 持たず is no もたない (money running out); managing money is no want of it
        ("財布も持たずに出かけたみたい", "general", "atsuma-fukushi"),
        ("お金の相談じゃないんです。父の話し相手を探しています", "general", "atsuma-fukushi"),
        ("軽度の知的障害があります。お金の管理が不安です", "disability", "atsuma-shogai"),
        ("睡眠薬を処方されてる。飲み忘れた分はどうすれば", "general", "atsuma-fukushi"),
        ("健診で、3歳の息子は発達っぽいですねと言われた", "coordinator", "atsuma-tajikan"),
        ("自閉症の子の預け先ない", "coordinator", "atsuma-tajikan"),
        ("シンママ 家賃が払えない", "coordinator", "atsuma-tajikan"),
        ("若年性のアルツハイマーと言われました。58歳、一人暮らし", "disability", "atsuma-shogai"),
        ("兄が「隣の人に監視されてる」と言って雨戸を閉め切っている", "disability", "atsuma-shogai"),
        ("中3です。バイトしたお金で弟の給食費を払ってます", "coordinator", "atsuma-tajikan"),
        (
            "ALSの夫を在宅でみています。重度訪問介護について教えてください",
            "disability",
            "atsuma-shogai",
        ),
        # a terse note: 「兄52無職」 is a brother of 52 without work
        ("母85 兄52無職 ずっと家にいる", "coordinator", "atsuma-tajikan"),
        ("仕事も家もなくなった", "poverty", "atsuma-jiritsu"),
        ("派遣の契約が今月いっぱいで終わる。寮も出ないといけない", "poverty", "atsuma-jiritsu"),
        ("医療費が家計を圧迫している", "poverty", "atsuma-jiritsu"),
        ("家賃と光熱費で給料が消える", "poverty", "atsuma-jiritsu"),
        (
            "中1の息子が学校に行っていません。フリースクールは月3万で、うちには無理です",
            "coordinator",
            "atsuma-tajikan",
        ),
        ("養育費が止まって、来月の家賃が払えるかどうか", "coordinator", "atsuma-tajikan"),
        # 「…の相談ではありません」 denies it
        (
            "生活保護の相談ではありません。集いの場の日程を知りたいだけです",
            "general",
            "atsuma-fukushi",
        ),
    ],
)
def test_route_and_body_by_domain(text, route, body):
    result = triage(text, "atsuma")
    assert result.route == route, quoted(result)
    assert result.body.id == body


# --- what every result and every piece of evidence carries -------------------------------

SAMPLES = [
    "こんにちは",
    "母(82)と長男(54)、長男は無職で自室にこもっている",
    "1歳の娘を育てながら、要介護2の義父の介護もしています",
    "夫に殴られて顔が腫れています。もう死にたい",
    "電気もガスも止められて、今日食べるものもありません",
    "一人暮らしの父が3日前から電話に出ません",
    "ｷﾞｬｸﾀｲされているかもしれない子がいます",
]


@pytest.mark.parametrize("municipality", ["atsuma", "tomiya"])
def test_every_result_has_a_rules_version(municipality):
    versions = {triage(text, municipality).rules_version for text in SAMPLES}
    assert len(versions) == 1
    (version,) = versions
    assert isinstance(version, str) and version.strip()


@pytest.mark.parametrize("text", SAMPLES[1:])
def test_every_evidence_has_a_rule_id_and_a_description(text):
    result = triage(text, "atsuma")
    assert result.evidence
    for e in result.evidence:
        assert e.rule and e.rule.strip(), e
        assert e.description and JAPANESE.search(e.description), e
        assert e.label in PUBLIC_LABELS, e
        assert e.text, e


@pytest.mark.parametrize("text", SAMPLES[1:])
def test_every_label_in_the_result_has_evidence(text):
    result = triage(text, "atsuma")
    evidenced = {e.label for e in result.evidence}
    assert set(result.domains) | set(result.patterns) <= evidenced
    assert result.urgent == ("urgent" in evidenced)


def test_the_result_is_the_same_every_time():
    text = "父(83)と暮らす長男(51)は家にこもっています。電気も止まっています"
    assert triage(text, "atsuma") == triage(text, "atsuma")
