"""Tests for newssearch.analysis: folding per script, offsets, positions, robustness."""

from __future__ import annotations

import ast
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newssearch.analysis import ANALYSIS_VERSION, analyze, fold, query_alternatives, query_terms
import newssearch.analysis as analysis_package
from newssearch.analysis import _unicode
from newssearch.analysis.tokenize import BMP_TOKEN_RE, TOKEN_RE

GERSHAYIM = "\u05f4"
GERESH = "\u05f3"


def primary(tokens):
    """The first token at each position (a word may add alternatives at its position)."""
    out, last = [], None
    for token in tokens:
        if token[1] != last:
            out.append(token)
            last = token[1]
    return out


def terms(text: str, **kw) -> list[str]:
    return [t[0] for t in primary(analyze(text, **kw))]


def surfaces(text: str, **kw) -> list[str]:
    return [text[s:e] for _, _, s, e in primary(analyze(text, **kw))]


def one_term(text: str, **kw) -> str:
    found = terms(text, **kw)
    assert len(found) == 1, found
    return found[0]


# --- Latin ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accented", "plain"),
    [
        ("Goïta", "Goita"),
        ("Zürich", "zurich"),
        ("straße", "strasse"),
        ("Sécurité", "securite"),
        ("Æsir", "aesir"),
        ("ﬁnance", "finance"),  # ligature, folded by NFKC
        ("Ｒｅｕｔｅｒｓ", "Reuters"),  # fullwidth
        ("Goi\u0308ta", "Goita"),  # decomposed diaeresis: the mark does not split the word
    ],
)
def test_latin_accents_fold_both_ways(accented, plain):
    assert one_term(accented) == one_term(plain)
    assert query_terms(accented) == query_terms(plain) == terms(plain)
    assert fold(accented) == fold(plain)


def test_fold_is_normalised_but_unstemmed():
    assert fold("Goïta") == "goita"
    assert fold("Coups") == "coups"
    assert fold("then-Colonel") == "then colonel"
    assert fold("...") == ""


def test_english_stemming_by_default():
    assert one_term("coups") == one_term("coup")
    assert one_term("Securities") == one_term("security")
    assert terms("the coups") == ["the", "coup"]  # stop words are kept


def test_stemming_per_language():
    assert one_term("Häuser", lang="de") == one_term("Haus", lang="de") == "haus"
    assert one_term("élections", lang="fr") == one_term("election", lang="fr")
    # an English stemmer does not conflate them
    assert one_term("Häuser") != one_term("Haus")
    # region subtags and case do not matter
    assert terms("Häuser", lang="DE-at") == terms("Häuser", lang="de")
    # an unknown language falls back to English for Latin words
    assert terms("coups", lang="xx") == terms("coups")


def test_apostrophes():
    assert terms("Mali's army") == terms("Mali army") == ["mali", "armi"]
    assert terms("MALI’S") == ["mali"]
    assert surfaces("Mali's army") == ["Mali's", "army"]
    # an apostrophe between letters keeps the word whole and is dropped from the term
    assert terms("Jama'at") == terms("Jamaat") == terms("Jama’at") == terms("Jamaʿat")
    assert len(terms("Jama'at Nusrat")) == 2
    assert terms("O'Brien") == ["obrien"]
    # quotes around a word are not part of it
    assert surfaces("'coup'") == ["coup"]


def test_hyphens_split_with_consecutive_positions():
    tokens = analyze("the then-Colonel Goïta")
    assert [t[0] for t in tokens] == ["the", "then", "colonel", "goita"]
    assert [t[1] for t in tokens] == [0, 1, 2, 3]
    assert query_terms("then-Colonel") == query_terms("then Colonel") == ["then", "colonel"]


def test_numbers():
    assert terms("1,500") == terms("1500") == ["1500"]
    assert terms("1,500,000.25") == ["1500000.25"]
    assert terms("3.5") == terms("3.5%") == ["3.5"]
    assert surfaces("up 3.5% in 2006.") == ["up", "3.5", "in", "2006"]
    assert terms("1,5") == ["1,5"]  # not a thousands grouping: kept as written
    assert terms("١٬٥٠٠") == terms("1,500")  # Arabic-Indic digits and separator
    assert terms("٣٫٥") == terms("3.5")


def test_letters_and_digits_are_separate_tokens():
    tokens = analyze("G20")
    assert [(t[0], t[1]) for t in tokens] == [("g", 0), ("20", 1)]
    assert query_terms("G20") == ["g", "20"]


# --- Hebrew --------------------------------------------------------------------------


def test_gershayim_forms_give_one_identical_term():
    ascii_form = one_term('צה"ל')
    assert ascii_form == one_term(f"צה{GERSHAYIM}ל") == one_term("צה''ל") == one_term("צה”ל")
    assert ascii_form == one_term("צהל")
    assert query_terms(f"צה{GERSHAYIM}ל") == terms('דובר צה"ל')[1:]
    assert one_term('בג"ץ') == one_term(f"בג{GERSHAYIM}ץ")
    assert one_term("ג'ורג'") == one_term(f"ג{GERESH}ורג{GERESH}")
    assert surfaces('אמר צה"ל.') == ["אמר", 'צה"ל']


def test_niqqud_and_cantillation_are_removed():
    pointed = "שָׁלוֹם"
    assert pointed != "שלום"
    assert one_term(pointed) == one_term("שלום")
    assert one_term("בְּרֵאשִׁ֖ית") == one_term("בראשית")  # with a cantillation mark
    assert len(terms("יְרוּשָׁלַיִם")) == 1  # niqqud never splits a word


def test_hebrew_final_letters():
    assert one_term("ארץ") == one_term("ארצ") == "ארצ"
    assert one_term("שלום") == "שלומ"
    assert fold("ךםןףץ") == "כמנפצ"


def test_maqaf_separates_hebrew_words():
    tokens = analyze("בית־ספר")
    assert [t[0] for t in tokens] == ["בית", "ספר"]
    assert [t[1] for t in tokens] == [0, 1]


# --- Arabic --------------------------------------------------------------------------


def test_tashkeel_and_tatweel_are_removed():
    assert one_term("مُحَمَّد") == one_term("محمد")
    assert one_term("العـــربية") == one_term("العربية")
    assert one_term("هٰذا") == one_term("هذا")  # superscript alef
    assert len(terms("الْعَرَبِيَّةُ")) == 1  # diacritics never split a word


def test_arabic_letter_variants():
    assert one_term("أحمد") == one_term("إحمد") == one_term("آحمد") == one_term("ٱحمد") == one_term("احمد")
    assert one_term("مستشفى") == one_term("مستشفي")
    assert one_term("مدرسة") == one_term("مدرسه")
    assert one_term("ﻻ") == one_term("لا")  # presentation-form ligature


# --- other scripts, mixing, offsets --------------------------------------------------


def test_other_scripts_casefold_whole():
    assert terms("Москва МОСКВА") == ["москва", "москва"]
    assert terms("東京都") == ["東京都"]
    assert one_term("ΣΟΦΟΣ") == one_term("σοφος")
    assert one_term("Ёлка") == one_term("елка")


def test_cyrillic_stemmed_only_with_russian():
    assert one_term("Москвы") == "москвы"
    assert one_term("Москвы", lang="ru") == one_term("Москва", lang="ru")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gaza\u200eעזה", ["Gaza", "עזה"]),
        ("Gazaעזה", ["Gaza", "עזה"]),
        ("غزةGaza", ["غزة", "Gaza"]),
        ("עזהغزة", ["עזה", "غزة"]),
        ("Москваabc", ["Москва", "abc"]),
        ("abc123", ["abc", "123"]),
    ],
)
def test_a_token_never_mixes_scripts(text, expected):
    assert surfaces(text) == expected
    assert [t[1] for t in primary(analyze(text))] == list(range(len(expected)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le colonel Goïta, à Bamako.", ["Le", "colonel", "Goïta", "à", "Bamako"]),
        ("Goi\u0308ta Zu\u0308rich", ["Goi\u0308ta", "Zu\u0308rich"]),
        ("דּוֹבֵר צְבָא־הַהֲגָנָּה", ["דּוֹבֵר", "צְבָא", "הַהֲגָנָּה"]),
        ("قالَ مُحَمَّدٌ: العـــربية!", ["قالَ", "مُحَمَّدٌ", "العـــربية"]),
        ('Goïta، غزة ו-צה"ל 3.5% Москва', ["Goïta", "غزة", "ו", 'צה"ל', "3.5", "Москва"]),
        ("𝐁𝐫𝐞𝐚𝐤𝐢𝐧𝐠 news", ["𝐁𝐫𝐞𝐚𝐤𝐢𝐧𝐠", "news"]),  # astral letters take the full pattern
    ],
)
def test_offsets_point_at_the_original_words(text, expected):
    tokens = primary(analyze(text))
    assert [text[s:e] for _, _, s, e in tokens] == expected
    assert [t[1] for t in tokens] == list(range(len(expected)))


def test_math_alphanumerics_fold_to_latin():
    assert terms("𝐁𝐫𝐞𝐚𝐤𝐢𝐧𝐠 𝐍𝐞𝐰𝐬") == terms("Breaking News")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!! ... --- ‐‑–—",
        "😀🇮🇱👍🏽",
        "\ud800 lone \udfff surrogates",
        "\x00\x01\x1b[31m\x7f",
        "\u0301\u05b8\u064e",  # combining marks alone
        "\u0640\u0640",  # tatweel alone: a token with no letters left, so no term
        "\u00ad\u200d\u200c",
        "ǂǃ",  # Latin click letters that fold to nothing
        "\ufdfa",  # one character whose NFKC form has spaces
        "a" * 100_000,
    ],
)
def test_never_crashes_on_odd_input(text):
    tokens = analyze(text)
    for term, _, start, end in tokens:
        assert term and 0 <= start < end <= len(text)
    query_terms(text)
    fold(text)


def test_odd_tokens_yield_no_term_and_no_position():
    assert analyze("\u0640 coup") == [("coup", 0, 2, 6)]
    assert len(terms("\ufdfa")) == 1


def test_analysis_version_is_a_string():
    assert isinstance(ANALYSIS_VERSION, str) and ANALYSIS_VERSION


def test_analysis_never_imports_the_engine():
    # Checked on the source: importing newssearch.analysis runs newssearch/__init__.py,
    # which may legitimately load the engine for the public API.
    package = Path(analysis_package.__file__).parent
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ["." * node.level + (node.module or "")]
            else:
                continue
            for name in names:
                assert not name.startswith(("whoosh", "newssearch.engine", "..")), (path, name)
                assert "engine" not in name.split("."), (path, name)


@pytest.mark.skipif(
    unicodedata.unidata_version != _unicode.UNIDATA_VERSION,
    reason="frozen classes come from another Unicode version",
)
def test_frozen_character_classes_match_their_generator():
    built = _unicode.build()
    for name, body in built.items():
        assert getattr(_unicode, name) == body, name


# --- properties ----------------------------------------------------------------------

# Characters that exercise every rule, mixed with arbitrary code points (surrogates too).
_INTERESTING = (
    "aZéß'’ʼ-‐ 0159.,%\"ץםצה\u05b8\u05c1\u0591\u05be\u05f3\u05f4"
    "اأإآىةـ\u064e\u0670\u066b\u066c٣ДёΣ東\u0301\u00ad\u200d\u200c\u200e𝐁😀\U0001ee00\U000e0100"
)
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(_INTERESTING), st.characters(blacklist_categories=())
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(text=texts, lang=st.sampled_from([None, "en", "de", "ru", "he", "ar", "zz"]))
def test_property_offsets_positions_and_query_agreement(text, lang):
    tokens = analyze(text, lang=lang)
    firsts = primary(tokens)
    assert [t[1] for t in firsts] == list(range(len(firsts)))
    previous_end = 0
    for term, pos, start, end in firsts:
        assert term
        assert previous_end <= start < end <= len(text)
        previous_end = end
        surface = text[start:end]
        assert TOKEN_RE.fullmatch(surface)
        at_pos = [t for t in tokens if t[1] == pos]
        # alternatives share the word's offsets, and the query side knows them all
        assert {(s, e) for _, _, s, e in at_pos} == {(start, end)}
        assert query_terms(surface, lang=lang) == [term]
        [alternatives] = query_alternatives(surface, lang=lang)
        assert {t[0] for t in at_pos} <= set(alternatives)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_property_fast_pattern_agrees_with_full_pattern(text):
    bmp_only = "".join(ch for ch in text if ord(ch) <= 0xFFFF)
    spans = [m.span() for m in TOKEN_RE.finditer(bmp_only)]
    assert [m.span() for m in BMP_TOKEN_RE.finditer(bmp_only)] == spans
    assert [(s, e) for _, _, s, e in primary(analyze(bmp_only))] == [
        (s, e) for s, e in spans if query_terms(bmp_only[s:e])
    ]


# find_terms: what snippets mark, without analysing every word


def _marked_by_analyze(text, terms, lang=None):
    from newssearch.analysis import analyze

    out = []
    for t, _pos, s, e in analyze(text, lang=lang):
        if t in terms and not (out and out[-1][0] == s):
            out.append((s, e, t))
    return out


def test_find_terms_agrees_with_analyze_on_tricky_words():
    from newssearch.analysis import find_terms, query_terms

    text = ("He was dying; the dyers' Companies said \u201cGo\u00efta\u201d and GOITA met "
            "the Stra\u00dfenbahn, 2,000 dollars, \u05e6\u05d4\"\u05dc and \u05d5\u05dc\u05e0\u05e6\u05d7 "
            "\u0648\u0627\u0644\u0643\u062a\u0627\u0628 e-mail re-elected.")
    for query in ("die", "companies", "goita", "strassenbahn", "2000", "\u05e0\u05e6\u05d7",
                  "\u05e6\u05d4\"\u05dc", "\u0643\u062a\u0627\u0628", "elected", "mail", "dyer"):
        terms = set(query_terms(query))
        assert find_terms(text, terms) == _marked_by_analyze(text, terms), query
    assert find_terms(text, {"die"})  # the irregular stem of "dying" is still found


def test_find_terms_agrees_with_analyze_on_real_articles():
    import gzip
    import itertools
    import json
    import random

    from newssearch.analysis import analyze, find_terms

    from .conftest import CORPORA, need_shared

    need_shared(CORPORA)
    rng = random.Random(3)
    checked = 0
    for path in sorted(CORPORA.glob("*/*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in itertools.islice(fh, 100):
                rec = json.loads(line)
                text, lang = (rec.get("body") or "")[:2000], rec.get("lang")
                tokens = analyze(text, lang=lang)
                if not tokens:
                    continue
                terms = {t for t, *_ in rng.sample(tokens, min(3, len(tokens)))}
                assert find_terms(text, terms, lang=lang) == _marked_by_analyze(text, terms, lang), (path.name, terms)
                checked += 1
    assert checked > 300


def test_ascii_grammar_is_the_tokenisers_on_ascii_text():
    import random
    import re

    from newssearch.analysis import find_terms
    from newssearch.analysis.pipeline import ASCII_NUMBER, ASCII_WORD

    ascii_re = re.compile(f"{ASCII_WORD}|{ASCII_NUMBER}")
    # every ASCII character on its own, between letters, between digits
    chars = [chr(i) for i in range(128)]
    samples = [f"ab{c}cd 12{c}34 {c}x{c} 5{c}" for c in chars]
    rnd = random.Random(9)
    alphabet = "aZq09 .,'-_\"\t\n;:!?()/&%$x" + "".join(chars[:32])
    samples += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60))) for _ in range(3000)]
    from newssearch.analysis.tokenize import ASCII_TOKEN_RE, token_re_for

    for text in samples:
        spans = [m.span() for m in TOKEN_RE.finditer(text)]
        assert [m.span() for m in ascii_re.finditer(text)] == spans, repr(text)
        assert [m.span() for m in ASCII_TOKEN_RE.finditer(text)] == spans, repr(text)
        assert token_re_for(text).findall(text) == TOKEN_RE.findall(text), repr(text)
    # and the skipping finder marks what analysing every word marks
    terms = {"a", "q", "0", "zq"}
    for text in samples[:500]:
        assert find_terms(text, terms) == _marked_by_analyze(text, terms), repr(text)


def _long_way(lang, stem, word):
    """Folding the long way (NFKC, then casefold: all fold_latin does to a word of ASCII
    letters besides its short path), then the language's Latin stemmer: what a plain ASCII
    word's terms must be."""
    from newssearch.analysis.stem import stem_function, stemmer_names
    from newssearch.analysis.tokenize import LATIN_SCRIPT

    folded = unicodedata.normalize("NFKC", word).casefold()
    name = stemmer_names(lang).get(LATIN_SCRIPT) if stem else None
    return (stem_function(name)(folded) or folded,) if name else (folded,)


_PROFILES = [(None, True), ("en", True), ("de", True), ("fr", True), ("he", True), (None, False)]


@pytest.mark.parametrize("lang,stem", _PROFILES)
def test_plain_ascii_words_take_a_short_path_to_the_same_terms(lang, stem):
    """Words of plain ASCII letters skip script detection and accent folding: their terms
    must be what folding then the language's Latin stemmer give (irregular stems too)."""
    from newssearch.analysis.pipeline import _profile

    words = ["Dying", "LYING", "news", "Mali", "O", "a", "skies", "GENERALLY", "running", "Strikes", "HARBOURS",
             "ugly", "Andes", "cosmos", "dying", "generously", "Hauser", "Arzte"]
    for w in words:
        assert _profile(lang, stem).forms(w) == _long_way(lang, stem, w), w


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=14),
       st.sampled_from(_PROFILES))
def test_any_ascii_word_takes_the_short_path_to_the_same_terms(word, profile):
    from newssearch.analysis.pipeline import _profile

    assert _profile(*profile).forms(word) == _long_way(*profile, word)
