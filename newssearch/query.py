"""User query text -> a small, engine-free query tree, plus warnings.

The language (documented in the README):

- words are all required by default: ``mali coup``;
- ``"exact phrase"``, optionally with slop: ``"coup plot"~3``;
- ``OR``, ``AND``, ``NOT`` are operators only in UPPER case, so a pasted sentence
  with "and", "or", "not" searches those words; ``|`` is OR too (``coup | junta``);
- ``allintitle:`` (``allintext:``, ``allinurl:``) at the start scopes every word after it;
- ``-word`` / ``NOT word`` excludes, ``+word`` requires (the default anyway);
- parentheses group: ``(coup OR junta) mali``;
- field scopes: ``title:`` (also ``intitle:``), ``body:`` (``intext:``),
  ``source:`` (exact outlet name, case-insensitive), ``lang:``, ``author:`` (every word
  of it in the byline, any case and accents), ``url:`` (``inurl:``,
  words of the address), ``site:`` (a domain and its subdomains); a scope applies to
  one word, one phrase or one parenthesised group;
- ``pre*`` prefix and ``word~`` / ``word~2`` fuzzy words (the engine bounds how many
  index terms they expand to);
- dates: ``when:24h|7d|1m|1y``, ``since:``/``after:DATE``, ``until:``/``before:DATE``,
  ``date:DATE`` and ``date:[A TO B]`` (``*`` or nothing for an open end), and the words
  today, yesterday, this/last week|month|year; relative ones are resolved against the
  ``now`` passed to :func:`parse_query` (see :mod:`newssearch.querydates`).

Nothing here raises on bad syntax: an unclosed quote or parenthesis, a stray
``)``, a dangling operator all degrade to a sensible search and add a warning.
Only a query with nothing searchable in it is a :class:`~newssearch.errors.BadQuery`.
The engine compiles the tree; see ``engine/whoosh.py``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import List, Optional, Tuple, Union

from .errors import BadInput, BadQuery
from .model import ESCAPE_SEQUENCE
from .querydates import DATE_SCOPES, resolve_date_scope

__all__ = [
    "Word", "Phrase", "Prefix", "Fuzzy", "DateRange", "And", "Or", "AnyOf", "Not", "Node",
    "ParsedQuery", "parse_query", "outline", "FIELD_ALIASES", "MAX_FUZZY_DISTANCE", "MIN_PREFIX",
    "MAX_QUERY_CHARS", "MAX_DEPTH", "MAX_QUERY_TERMS", "MAX_PHRASE_WORDS", "MAX_EXPANDING",
]

MAX_FUZZY_DISTANCE = 2
"""Largest edit distance ``word~N`` accepts (more would match most of the vocabulary)."""
MIN_PREFIX = 2
"""Shortest prefix ``pre*`` accepts, in characters."""

# Work budget of one query. Each bound repairs the query with a warning rather than
# refusing it, so a hostile or pasted query costs at most this much (see tests/test_hostile_queries.py).
MAX_QUERY_CHARS = 20_000
"""Longest query text read; the rest (cut at a space) is dropped with a warning."""
MAX_DEPTH = 16
"""Deepest nesting of parentheses; deeper ones are ignored (their words still searched)."""
MAX_QUERY_TERMS = 64
"""Most words, phrases and dates one query searches; the rest are dropped with a warning."""
MAX_PHRASE_WORDS = 32
"""Longest phrase, in words; a longer one is cut."""
MAX_EXPANDING = 8
"""Most prefix (``pre*``) and fuzzy (``word~``) parts one query expands; further ones are plain words."""

# user-facing scope name -> canonical field
FIELD_ALIASES = {
    "title": "title",
    "intitle": "title",
    "body": "body",
    "intext": "body",
    "text": "body",
    "source": "source",
    "lang": "lang",
    "language": "lang",
    "url": "url",
    "inurl": "url",
    "site": "site",
    "domain": "site",
    "author": "author",
    "byline": "author",
}
# scopes whose value is matched exactly (not analysed)
EXACT_FIELDS = frozenset({"source", "lang", "site"})
# scopes whose value is a set of words, all of which must be there (no phrase, prefix or fuzzy)
WORD_SET_FIELDS = frozenset({"author"})
_WHOLE = EXACT_FIELDS | WORD_SET_FIELDS


@dataclass(frozen=True)
class Word:
    """One word to find; ``field`` None means title or body."""

    text: str
    field: Optional[str] = None


@dataclass(frozen=True)
class Phrase:
    """Words in this order, at most ``slop`` positions apart (0 = adjacent)."""

    text: str
    field: Optional[str] = None
    slop: int = 0


@dataclass(frozen=True)
class Prefix:
    """Any indexed word starting with ``text`` (``elect*``); expansion is bounded by the engine."""

    text: str
    field: Optional[str] = None


@dataclass(frozen=True)
class Fuzzy:
    """Indexed words within ``distance`` edits of ``text`` (``Goitta~``); bounded by the engine."""

    text: str
    field: Optional[str] = None
    distance: int = 1


@dataclass(frozen=True)
class DateRange:
    """Published between ``start`` and ``end`` (aware UTC, inclusive; None = open end).

    ``label`` is what the user typed, for ``--explain``.
    """

    start: Optional[datetime]
    end: Optional[datetime]
    label: str = ""


@dataclass(frozen=True)
class And:
    """All children must match; ``Not`` children exclude."""

    children: Tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    """Any child may match; more matching children rank higher."""

    children: Tuple["Node", ...]


@dataclass(frozen=True)
class AnyOf:
    """Ranked match of loose words: at least ``min_match`` children must match, more rank higher.

    Never produced by the parser; built for the long-query fallback (see ``newssearch.fallback``).
    """

    children: Tuple["Node", ...]
    min_match: int = 1


@dataclass(frozen=True)
class Not:
    """Exclude what ``child`` matches (only meaningful inside an And)."""

    child: "Node"


Node = Union[Word, Phrase, Prefix, Fuzzy, DateRange, And, Or, AnyOf, Not]


@dataclass(frozen=True)
class ParsedQuery:
    """The tree built from a query text, and what was repaired on the way."""

    text: str
    tree: Node
    warnings: Tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """A readable rendering of the tree, for ``--explain`` and debugging."""
        return _describe(self.tree)


def _describe(node: Node) -> str:
    if isinstance(node, Word):
        return f"{node.field}:{node.text}" if node.field else node.text
    if isinstance(node, Phrase):
        s = f'"{node.text}"' + (f"~{node.slop}" if node.slop else "")
        return f"{node.field}:{s}" if node.field else s
    if isinstance(node, Prefix):
        return f"{node.field}:{node.text}*" if node.field else f"{node.text}*"
    if isinstance(node, Fuzzy):
        s = f"{node.text}~{node.distance}"
        return f"{node.field}:{s}" if node.field else s
    if isinstance(node, DateRange):
        return f"date:[{_iso(node.start)} TO {_iso(node.end)}]"
    if isinstance(node, Not):
        return f"NOT {_describe(node.child)}"
    if isinstance(node, AnyOf):
        return f"ANY{node.min_match}(" + " ".join(_describe(c) for c in node.children) + ")"
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(_describe(c) for c in node.children) + ")"


def _iso(dt: Optional[datetime]) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt is not None else "*"


def outline(node: Node, indent: int = 0) -> List[str]:
    """The tree as indented lines, one node each with its kind and words (for ``--explain``)."""
    pad = "  " * indent
    if isinstance(node, (And, Or, AnyOf)):
        extra = f" at least {node.min_match}" if isinstance(node, AnyOf) else ""
        lines = [f"{pad}{type(node).__name__}{extra}"]
        for child in node.children:
            lines.extend(outline(child, indent + 1))
        return lines
    if isinstance(node, Not):
        return [f"{pad}Not"] + outline(node.child, indent + 1)
    if isinstance(node, DateRange):
        return [f"{pad}DateRange {_iso(node.start)} .. {_iso(node.end)}" + (f" ({node.label})" if node.label else "")]
    where = f" in {node.field}" if node.field else ""
    extra = ""
    if isinstance(node, Phrase) and node.slop:
        extra = f" slop {node.slop}"
    elif isinstance(node, Fuzzy):
        extra = f" distance {node.distance}"
    return [f"{pad}{type(node).__name__} {node.text!r}{where}{extra}"]


# ---------------------------------------------------------------- lexer

_HEB = "\u0590-\u05ff\ufb1d-\ufb4f"
_DATE_SCOPE_ALT = "|".join(DATE_SCOPES)
_QUOTES = '"\u201c\u201d\u201e\u05f4'
_TOKEN_RE = re.compile(
    rf"""
      (?P<ws>\s+)
    | (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<datescope>(?:{_DATE_SCOPE_ALT}):)(?=\S)   # when:/since:/date: ... read by _date_value
    | (?P<scope>[A-Za-z]+):(?=\S)           # field: directly followed by its value
    | (?P<quote>[{_QUOTES}])                # straight, curly or Hebrew quotes open a phrase
    | (?P<pipe>\|+)                         # | (or ||) is OR, as search boxes take it
    | (?P<sign>[+\-])(?=[^\s+\-])           # +word / -word
    | (?P<word>(?:[^\s(){_QUOTES}|]|(?<=[{_HEB}])[{_QUOTES}'](?=[{_HEB}]))+)
    """,
    re.VERBOSE | re.IGNORECASE,
)
# a quote mark between two Hebrew letters is gershayim inside a word (צה"ל), never a phrase end
_CLOSING_RE = re.compile(rf"(?<![{_HEB}])[{_QUOTES}]|[{_QUOTES}](?![{_HEB}])")
_SLOP_RE = re.compile(r"~(\d{1,3})")


# relative words that are more than one token: "since:last week", "date:this month"
_DATE_TOKEN_RE = re.compile(r"[^\s()]+")
_MULTIWORD_DATE_RE = re.compile(r"(?:last|this|past|previous)\s+(?:week|month|year)\b", re.IGNORECASE)


@dataclass
class _Tok:
    kind: str  # word, phrase, lparen, rparen, scope, sign, op, date
    value: str
    slop: int = 0
    scope: str = ""


def _date_value(text: str, i: int) -> Tuple[str, int]:
    """The value after a date scope at *i*: ``[A TO B]``, ``"quoted"``, two relative words or one token."""
    n = len(text)
    if text.startswith("[", i):
        close = text.find("]", i)
        return (text[i:], n) if close == -1 else (text[i : close + 1], close + 1)
    if text[i] in _QUOTES:
        close = _CLOSING_RE.search(text, i + 1)
        return (text[i + 1 :], n) if close is None else (text[i + 1 : close.start()], close.end())
    m = _MULTIWORD_DATE_RE.match(text, i)
    if m:
        return m.group(0), m.end()
    m = _DATE_TOKEN_RE.match(text, i)
    if m is None:  # "when:(": no value; the parser warns about the empty date
        return "", i
    return m.group(0), m.end()


# C0/C1 controls (NUL included), lone surrogates and bidi/format controls: never part of a word
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _clean(text: str, warnings: List[str]) -> str:
    """*text* without control characters and cut to MAX_QUERY_CHARS (at a space where there is one)."""
    cleaned = _CONTROL_RE.sub(" ", ESCAPE_SEQUENCE.sub(" ", text) if "\x1b" in text or "\x9b" in text else text)
    if cleaned != text and cleaned.strip() != text.strip():
        warnings.append("control characters, lone surrogates or direction marks in the query: read as spaces")
    if len(cleaned) > MAX_QUERY_CHARS:
        cut = cleaned.rfind(" ", 0, MAX_QUERY_CHARS + 1)
        cleaned = cleaned[: cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS]
        warnings.append(f"query longer than {MAX_QUERY_CHARS:,} characters: searched its first {len(cleaned):,}")
    return cleaned


def _bound(toks: List[_Tok], warnings: List[str]) -> List[_Tok]:
    """Apply the nesting and term budgets to a token list (see MAX_DEPTH, MAX_QUERY_TERMS ...)."""
    out: List[_Tok] = []
    depth = ignored = 0  # nesting kept / '(' dropped and still open
    terms = deep = 0
    for tok in toks:
        if tok.kind == "lparen":
            if depth >= MAX_DEPTH:
                ignored += 1
                deep += 1
                continue
            depth += 1
        elif tok.kind == "rparen":
            if ignored:
                ignored -= 1
                continue
            depth = max(0, depth - 1)
        elif tok.kind in ("word", "phrase", "date"):
            terms += 1
            if terms > MAX_QUERY_TERMS:
                warnings.append(f"more than {MAX_QUERY_TERMS} words in the query: searched the first {MAX_QUERY_TERMS}")
                break
            if tok.kind == "phrase" and len(words := tok.value.split()) > MAX_PHRASE_WORDS:
                warnings.append(f"phrase of {len(words):,} words: searched its first {MAX_PHRASE_WORDS}")
                tok = _Tok("phrase", " ".join(words[:MAX_PHRASE_WORDS]), tok.slop)
        out.append(tok)
    if deep:
        warnings.append(f"parentheses nested deeper than {MAX_DEPTH} levels: the inner ones ignored")
    return out


def _lex(text: str, warnings: List[str]) -> List[_Tok]:
    toks: List[_Tok] = []
    terms = 0
    i, n = 0, len(text)
    while i < n:
        m = _TOKEN_RE.match(text, i)
        assert m is not None  # the word branch matches any other character
        kind = m.lastgroup or "word"
        value = m.group(kind)
        i = m.end()
        if kind == "ws":
            continue
        if kind == "datescope":
            raw, i = _date_value(text, i)
            toks.append(_Tok("date", raw, scope=value[:-1].lower()))
            terms += 1
            if terms > MAX_QUERY_TERMS:
                break  # _bound warns; lexing the rest would only cost time
            continue
        if kind == "quote":
            close = _CLOSING_RE.search(text, i)
            if close is None:
                shown = text[i:].strip()
                shown = shown if len(shown) <= 60 else shown[:60] + "..."
                warnings.append(f"unclosed quote: searched {shown!r} as a phrase")
                phrase, i = text[i:], n
            else:
                phrase, i = text[i:close.start()], close.end()
            slop = 0
            sm = _SLOP_RE.match(text, i)
            if sm:
                slop, i = int(sm.group(1)), sm.end()
            toks.append(_Tok("phrase", phrase.strip(), slop))
            terms += 1
            if terms > MAX_QUERY_TERMS:
                break
            continue
        if kind == "word" and value in ("AND", "OR", "NOT"):
            toks.append(_Tok("op", value))
            continue
        if kind == "pipe":
            toks.append(_Tok("op", "OR"))
            continue
        toks.append(_Tok(kind, value))
        if kind == "word":
            terms += 1
            if terms > MAX_QUERY_TERMS:
                break
    return toks


# ---------------------------------------------------------------- parser


class _Parser:
    def __init__(self, toks: List[_Tok], warnings: List[str], now: Optional[datetime] = None):
        self.toks = toks
        self.i = 0
        self.warnings = warnings
        self.now = now
        self.expanding = 0  # prefix and fuzzy parts read so far (see MAX_EXPANDING)

    def _expands(self, value: str) -> bool:
        """Whether one more prefix/fuzzy part fits the budget (warns when it does not)."""
        self.expanding += 1
        if self.expanding > MAX_EXPANDING:
            if self.expanding == MAX_EXPANDING + 1:
                self.warnings.append(f"more than {MAX_EXPANDING} prefix or fuzzy words: {value!r} and later ones searched as typed")
            return False
        return True

    def peek(self) -> Optional[_Tok]:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Optional[Node]:
        nodes: List[Node] = []
        while self.peek() is not None:
            node = self.and_expr()
            if node is not None:
                nodes.append(node)
            if (tok := self.peek()) is not None and tok.kind == "rparen":
                self.take()
                self.warnings.append("unbalanced ')': ignored")
        return _and(nodes)

    def and_expr(self) -> Optional[Node]:
        """Juxtaposed or AND-joined parts, up to a ')' or the end."""
        parts: List[Node] = []
        while (tok := self.peek()) is not None and tok.kind != "rparen":
            if tok.kind == "op" and tok.value in ("AND", "OR"):
                self.take()
                self.warnings.append(f"{tok.value} with nothing before it: ignored")
                continue
            node = self.or_expr()
            if node is not None:
                parts.append(node)
            if (tok := self.peek()) is not None and tok.kind == "op" and tok.value == "AND":
                self.take()
                if (nxt := self.peek()) is None or nxt.kind == "rparen":
                    self.warnings.append("AND with nothing after it: ignored")
        return _and(parts)

    def or_expr(self) -> Optional[Node]:
        """OR binds tighter than AND, as in web search: ``mali coup OR junta`` = mali (coup OR junta)."""
        parts: List[Node] = []
        first = self.unary()
        if first is not None:
            parts.append(first)
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value == "OR":
            self.take()
            nxt_tok = self.peek()
            if nxt_tok is None or nxt_tok.kind == "rparen" or (nxt_tok.kind == "op" and nxt_tok.value != "NOT"):
                self.warnings.append("OR with nothing after it: ignored")
                break
            nxt = self.unary()
            if nxt is not None:
                parts.append(nxt)
        if any(isinstance(p, Not) for p in parts) and len(parts) > 1:
            self.warnings.append("NOT inside OR has no effect: searched the other words")
            parts = [p for p in parts if not isinstance(p, Not)]
        if not parts:
            return None
        return Or(tuple(parts)) if len(parts) > 1 else parts[0]

    def unary(self) -> Optional[Node]:
        """``NOT x``, ``-x``, ``+x``; chains are read in a loop (NOT NOT x == x), never by recursion."""
        negate = False
        while (tok := self.peek()) is not None:
            if (tok.kind == "op" and tok.value == "NOT") or (tok.kind == "sign" and tok.value == "-"):
                self.take()
                nxt = self.peek()
                if nxt is None or nxt.kind == "rparen" or (nxt.kind == "op" and nxt.value != "NOT"):
                    self.warnings.append(f"{tok.value} with nothing after it: ignored")
                    return None
                negate = not negate
            elif tok.kind == "sign":  # '+' just means required, which words are anyway
                self.take()
            else:
                break
        if self.peek() is None:
            return None
        child = self.atom()
        if child is None or not negate:
            return child
        return child.child if isinstance(child, Not) else Not(child)

    def atom(self) -> Optional[Node]:
        tok = self.take()
        scope: Optional[str] = None
        while tok.kind == "scope":  # title:body:word: the innermost scope wins
            name = FIELD_ALIASES.get(tok.value.lower())
            nxt = self.peek()
            if name is None:
                # not a field we know (e.g. "10:30", "http:"): search it as text
                self.warnings.append(f"unknown field {tok.value!r}: searched as a word")
                if nxt is not None and nxt.kind == "word":
                    self.take()
                    return Word(f"{tok.value}:{nxt.value}")
                return Word(tok.value)
            if nxt is None or nxt.kind in ("rparen", "op"):
                self.warnings.append(f"{tok.value}: with nothing after it: ignored")
                return None
            scope = name
            tok = self.take()
        if tok.kind == "lparen":
            inner = self.and_expr()
            if self.peek() is None:
                self.warnings.append("unclosed '(': closed at the end of the query")
            else:
                self.take()
            return _scoped(inner, scope) if scope and inner is not None else inner
        if tok.kind == "phrase":
            if not tok.value:
                self.warnings.append("empty phrase: ignored")
                return None
            if scope in _WHOLE:
                return Word(tok.value, scope)
            return Phrase(tok.value, scope, tok.slop)
        if tok.kind == "date":
            return self.date(tok)
        if tok.kind == "rparen":  # pragma: no cover - callers stop at ')'
            return None
        if tok.kind in ("op", "sign"):
            self.warnings.append(f"misplaced {tok.value!r}: ignored")
            return None
        return self.word(tok.value, scope)

    def word(self, value: str, scope: Optional[str]) -> Optional[Node]:
        """A bare word, ``pre*`` or ``word~N``."""
        if scope in _WHOLE or scope == "url":
            return Word(value, scope)
        m = re.fullmatch(r"(.+?)~(\d{0,3})", value)
        if m and not m.group(1).endswith("~"):
            stem, digits = m.group(1), m.group(2)
            distance = int(digits) if digits else (1 if len(stem) <= 5 else 2)
            if distance > MAX_FUZZY_DISTANCE:
                self.warnings.append(f"fuzzy {value!r}: distance capped at {MAX_FUZZY_DISTANCE}")
                distance = MAX_FUZZY_DISTANCE
            if distance == 0 or not self._expands(value):
                return Word(stem, scope)
            return Fuzzy(stem, scope, distance)
        if value.endswith("*") and len(value) > 1:
            stem = value.rstrip("*")
            if "*" in stem or "?" in stem:
                self.warnings.append(f"wildcard inside {value!r} is not supported: searched {stem.replace('*', ' ')!r}")
                return Word(stem.replace("*", " "), scope)
            if len(stem) < MIN_PREFIX:
                self.warnings.append(f"prefix {value!r} is too short (at least {MIN_PREFIX} letters): searched {stem!r}")
                return Word(stem, scope)
            if not self._expands(value):
                return Word(stem, scope)
            return Prefix(stem, scope)
        return Word(value, scope)

    def date(self, tok: _Tok) -> Optional[Node]:
        """``when:7d``, ``since:DATE``, ``date:[A TO B]`` ... resolved against ``now``."""
        label = f"{tok.scope}:{tok.value}"
        try:
            start, end = resolve_date_scope(tok.scope, tok.value, now=self.now)
        except BadInput as exc:
            self.warnings.append(f"{label}: {exc}: ignored")
            return None
        return DateRange(start, end, label)


def _scoped(node: Node, scope: str) -> Node:
    """Apply a field scope to every leaf of a group: ``title:(a OR b)``."""
    if isinstance(node, Word):
        return Word(node.text, node.field or scope)
    if isinstance(node, Phrase):
        if scope in _WHOLE and not node.field:
            return Word(node.text, scope)
        return Phrase(node.text, node.field or scope, node.slop)
    if isinstance(node, Prefix):
        return Prefix(node.text, node.field or scope) if scope not in _WHOLE or node.field else Word(node.text, scope)
    if isinstance(node, Fuzzy):
        return (Fuzzy(node.text, node.field or scope, node.distance) if scope not in _WHOLE or node.field
                else Word(node.text, scope))
    if isinstance(node, DateRange):
        return node
    if isinstance(node, Not):
        return Not(_scoped(node.child, scope))
    kids = tuple(_scoped(c, scope) for c in node.children)
    return And(kids) if isinstance(node, And) else Or(kids)


def _and(parts: List[Node]) -> Optional[Node]:
    if not parts:
        return None
    flat: List[Node] = []
    for p in parts:
        flat.extend(p.children if isinstance(p, And) else (p,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


_ALL_IN = re.compile(r"\s*allin(title|text|url):\s*", re.IGNORECASE)


def parse_query(text: str, *, now: Optional[datetime] = None) -> ParsedQuery:
    """Parse *text* into a :class:`ParsedQuery`; never raises on bad syntax.

    *now* resolves relative dates (``when:7d``, ``since:yesterday``); without it they
    are ignored with a warning, since the library never reads the clock itself.
    Raises :class:`~newssearch.errors.BadQuery` only when nothing searchable is left
    (an empty query, or one made only of operators) or when every part excludes.
    """
    if not isinstance(text, str):
        raise BadQuery(f"a query is text (str), not {type(text).__name__}")
    warnings: List[str] = []
    cleaned = _clean(text, warnings)
    every = _ALL_IN.match(cleaned)
    if every:  # allintitle: a b == title:a title:b
        cleaned = cleaned[every.end():]
    toks = _bound(_lex(cleaned, warnings), warnings)
    tree = _Parser(toks, warnings, now).parse()
    if tree is not None and every:
        tree = _scoped(tree, FIELD_ALIASES[every.group(1).lower()])
    if tree is None:
        if warnings:
            raise BadQuery(f"nothing to search for in {text[:80]!r}: " + "; ".join(dict.fromkeys(warnings)))
        raise BadQuery("empty query: give at least one word to search for")
    if isinstance(tree, Not) or (isinstance(tree, And) and all(isinstance(c, Not) for c in tree.children)):
        raise BadQuery(f"query {text!r} only excludes: add a word to search for")
    return ParsedQuery(text, tree, tuple(warnings))
