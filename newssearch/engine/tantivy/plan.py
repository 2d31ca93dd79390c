"""The query tree compiled to a small plan the tantivy engine both runs and re-scores.

A plan mirrors the Whoosh query the Whoosh wing compiles (:mod:`..whoosh.compile`):
terms of title and body (scored by BM25F), keyword terms and date ranges (scored by
their weight, as Whoosh scores unscored fields), phrases (every term of every slot
scores where all slots are present in a field; the positions decide the match), And,
Or, AndNot, at-least-k-of (top level only, as the Whoosh wing) and match-all/none.

The same plan is turned into a tantivy query (:mod:`.compile`) that picks the
candidates, and evaluated per candidate, from its stored term frequencies and lengths,
to give the score the Whoosh engine gives (:mod:`.score`). Nothing here imports tantivy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple, Union

from ... import analysis
from ...query import MIN_PREFIX, AnyOf, Node
from ..documents import author_words, choose_expansion, clean_domain, source_key, url_words
from ..walk import TreeWalk

__all__ = ["Term", "Keyword", "Dates", "PhrasePlan", "AllOf", "AnyOfPlan", "Butnot", "Every", "Nothing",
           "Plan", "Planner", "describe", "clip", "micros"]

Vocabulary = Callable[[str, str], List[Tuple[str, int]]]
"""(field, prefix) -> every (term, document frequency) of the field starting with the prefix."""


def clip(term: str) -> str:
    """A term as the index holds it: the whitespace tokenizer splits on spaces, so none stay."""
    return "".join(term.split()) if (" " in term or "\t" in term or "\n" in term) else term


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)


def micros(when: datetime) -> int:
    """Microseconds since 1970 UTC of an aware datetime (exact, unlike a float timestamp)."""
    return (when - _EPOCH) // _MICRO


# ---------------------------------------------------------------------------- plan nodes


@dataclass(frozen=True)
class Term:
    """A scored term of ``title`` or ``body``; *weight* multiplies its BM25F score."""

    field: str
    term: str
    weight: float = 1.0


@dataclass(frozen=True)
class Keyword:
    """A keyword field value (source_key, lang, domains, urlwords, authorwords): scores its count."""

    field: str
    value: str


@dataclass(frozen=True)
class Dates:
    """Dated articles within inclusive bounds (micros); scores 1."""

    start: Optional[int]
    end: Optional[int]


@dataclass(frozen=True)
class PhrasePlan:
    """A phrase in one or more fields: per field, the slots (alternative terms of each word)."""

    parts: Tuple[Tuple[str, Tuple[Tuple[str, ...], ...]], ...]
    slop: int
    key: int
    """Index of this phrase in the plan (the searcher checks positions per phrase)."""


@dataclass(frozen=True)
class AllOf:
    children: Tuple["Plan", ...]


@dataclass(frozen=True)
class AnyOfPlan:
    children: Tuple["Plan", ...]
    need: int = 1


@dataclass(frozen=True)
class Butnot:
    """*keep* without what *drop* matches (score from *keep*)."""

    keep: "Plan"
    drop: "Plan"


@dataclass(frozen=True)
class Every:
    pass


@dataclass(frozen=True)
class Nothing:
    pass


Plan = Union[Term, Keyword, Dates, PhrasePlan, AllOf, AnyOfPlan, Butnot, Every, Nothing]


def _any(fieldname: str, terms: Sequence[str]) -> Plan:
    if len(terms) == 1:
        return Term(fieldname, terms[0])
    return AnyOfPlan(tuple(Term(fieldname, t) for t in terms))


def _or(kids: List[Plan]) -> Optional[Plan]:
    if not kids:
        return None
    return kids[0] if len(kids) == 1 else AnyOfPlan(tuple(kids))


@dataclass
class Planner(TreeWalk[Plan]):
    """Compiles one tree, as the Whoosh wing's QueryCompiler does; ``warnings``, ``expanded``
    and ``terms`` say what it did. *vocabulary* reads the term dictionary for prefix and
    fuzzy words."""

    vocabulary: Vocabulary
    lang: Optional[str] = None
    langs: Tuple[str, ...] = ()
    warnings: List[str] = field(default_factory=list)
    expanded: Dict[str, int] = field(default_factory=dict)
    terms: Set[str] = field(default_factory=set)
    phrases: int = 0

    def compile(self, node: Node) -> Plan:
        found = self._compile(node)
        return found if found is not None else Nothing()

    def compile_top(self, node: Node) -> Plan:
        """The whole tree: an at-least-k-of at the top keeps its k (nested ones are Or's, as Whoosh)."""
        if isinstance(node, AnyOf) and node.min_match > 1:
            kids = [self.compile(c) for c in node.children]
            return AnyOfPlan(tuple(kids), node.min_match)
        return self.compile(node)

    def dates(self, start: Optional[datetime], end: Optional[datetime]) -> Plan:
        return Dates(micros(start) if start is not None else None, micros(end) if end is not None else None)

    def either(self, kids: List[Plan], need: int) -> Optional[Plan]:
        return _or(kids)  # a nested at-least-k-of is an Or (as Whoosh)

    def both(self, pos: List[Plan], neg: List[Plan]) -> Optional[Plan]:
        if not pos:
            return None if not neg else Butnot(Every(), _or(neg))  # type: ignore[arg-type]
        base = AllOf(tuple(pos)) if len(pos) > 1 else pos[0]
        return Butnot(base, _or(neg)) if neg else base  # type: ignore[arg-type]

    def word(self, text: str, fieldname: Optional[str], slop: int) -> Optional[Plan]:
        """A word or phrase (*slop* 0 = adjacent) in one field, or in title and body."""
        if fieldname == "source":
            return Keyword("source_key", source_key(text.strip()))
        if fieldname == "lang":
            return Keyword("lang", text.strip().lower())
        if fieldname == "site":
            return Keyword("domains", clean_domain(text))
        if fieldname in ("url", "author"):
            words = url_words(text) if fieldname == "url" else list(author_words(text))
            if not words:
                return None
            name = "urlwords" if fieldname == "url" else "authorwords"
            kids: List[Plan] = [Keyword(name, w) for w in words]
            return AllOf(tuple(kids)) if len(kids) > 1 else kids[0]
        alternatives = [tuple(clip(t) for t in a)
                        for a in analysis.query_alternatives(text, lang=self.lang, langs=self.langs)]
        if not alternatives:
            return None
        fields = (fieldname,) if fieldname else ("title", "body")
        if len(alternatives) == 1:
            return _or([_any(f, alternatives[0]) for f in fields])
        plan = PhrasePlan(tuple((f, tuple(alternatives)) for f in fields), slop, self.phrases)
        self.phrases += 1
        return plan

    def _expand(self, text: str, fieldname: Optional[str], *, prefix: bool, distance: int = 1) -> Optional[Plan]:
        """A prefix or fuzzy word as an Or of at most MAX_EXPANSION index terms (the most frequent)."""
        folded = analysis.query_terms(text, stem=False)
        stemmed = analysis.query_terms(text)
        if not folded:
            return None
        if fieldname not in (None, "title", "body", "url"):
            return Nothing()  # source:, lang:, site:, author: hold names, not words
        # a multi-token word ("then-col*"): the leading tokens are plain words (in inurl:, url words)
        head: List[Plan] = [Keyword("urlwords", t) if fieldname == "url" else
                            _or([Term(f, clip(t)) for f in ((fieldname,) if fieldname else ("title", "body"))])  # type: ignore[misc]
                            for t in (folded[:-1] if fieldname == "url" else stemmed[:-1])]
        word = folded[-1]
        stem = stemmed[-1] if stemmed else word
        if prefix and len(word) < MIN_PREFIX:
            self.warnings.append(f"prefix {text + '*'!r} is too short: searched {word!r}")
            return self.word(" ".join(folded), fieldname, slop=0)
        fields = ("urlwords",) if fieldname == "url" else ((fieldname,) if fieldname else ("title", "body"))
        base = (stem if word.startswith(stem) else word) if prefix else stem[:1]
        # each field's term dictionary in term order, from the base on
        chosen, cut = choose_expansion((sorted(self.vocabulary(f, base)) for f in fields),
                                       stem=stem, prefix=prefix, distance=distance)
        label = f"{text}*" if prefix else f"{text}~{distance}"
        if cut:
            self.warnings.append(f"{label!r} matches too many words: searched the {len(chosen)} most frequent")
        self.expanded[label] = len(chosen)
        self.terms.update(chosen)
        if not chosen:
            return Nothing() if not head else None
        if fields == ("urlwords",):
            alts: Plan = AnyOfPlan(tuple(Keyword("urlwords", t) for t in chosen))
        else:
            alts = AnyOfPlan(tuple(Term(f, t) for t in chosen for f in fields))
        return AllOf(tuple(head) + (alts,)) if head else alts


def describe(plan: Plan) -> str:
    """The plan as text, for ``--explain``."""
    if isinstance(plan, Term):
        return f"{plan.field}:{plan.term}" + (f"^{plan.weight:g}" if plan.weight != 1.0 else "")
    if isinstance(plan, Keyword):
        return f"{plan.field}:{plan.value}"
    if isinstance(plan, Dates):
        return f"published:[{plan.start} TO {plan.end}]"
    if isinstance(plan, PhrasePlan):
        parts = [f'{f}:"{" ".join("|".join(a) for a in slots)}"' for f, slots in plan.parts]
        return "(" + " OR ".join(parts) + ")" + (f"~{plan.slop}" if plan.slop else "")
    if isinstance(plan, AllOf):
        return "(" + " AND ".join(describe(k) for k in plan.children) + ")"
    if isinstance(plan, AnyOfPlan):
        inner = " OR ".join(describe(k) for k in plan.children)
        return f"({inner})" if plan.need == 1 else f"({inner})@{plan.need}"
    if isinstance(plan, Butnot):
        return f"({describe(plan.keep)} ANDNOT {describe(plan.drop)})"
    if isinstance(plan, Every):
        return "*"
    return "<nothing>"
