"""The one walk of a query tree every engine's compiler shares.

Each wing turns the same nodes into its own queries (Whoosh query objects, OpenSearch
DSL, tantivy plans); what a node means is decided here once: a word and a phrase are
one call with a slop, a prefix and a fuzzy word one expansion, a NOT is compiled where
its And puts it, and an And is its positive and its negated children. A subclass says
how each piece is built.
"""
from __future__ import annotations

from datetime import datetime
from typing import Generic, List, Optional, TypeVar

from ..query import And, AnyOf, DateRange, Fuzzy, Node, Not, Or, Phrase, Prefix, Word

__all__ = ["TreeWalk"]

Q = TypeVar("Q")


class TreeWalk(Generic[Q]):
    """``_compile(node)``: the node as a query of the wing, or None when nothing in it is
    searchable. Subclasses define the five hooks below."""

    def _compile(self, node: Node) -> Optional[Q]:
        if isinstance(node, Word):
            return self.word(node.text, node.field, slop=0)
        if isinstance(node, Phrase):
            return self.word(node.text, node.field, slop=node.slop)
        if isinstance(node, Prefix):
            return self._expand(node.text, node.field, prefix=True)
        if isinstance(node, Fuzzy):
            return self._expand(node.text, node.field, prefix=False, distance=node.distance)
        if isinstance(node, DateRange):
            return self.dates(node.start, node.end)
        if isinstance(node, Not):
            return self._compile(node.child)
        if isinstance(node, (Or, AnyOf)):
            kids = [k for k in (self._compile(c) for c in node.children) if k is not None]
            return self.either(kids, node.min_match if isinstance(node, AnyOf) else 1)
        if isinstance(node, And):
            pos = [k for k in (self._compile(c) for c in node.children if not isinstance(c, Not)) if k is not None]
            neg = [k for k in (self._compile(c) for c in node.children if isinstance(c, Not)) if k is not None]
            return self.both(pos, neg)
        raise TypeError(f"unknown query node {node!r}")

    def word(self, text: str, fieldname: Optional[str], slop: int) -> Optional[Q]:
        """A word or phrase (*slop* 0 = adjacent) in one field, or in title and body."""
        raise NotImplementedError

    def _expand(self, text: str, fieldname: Optional[str], *, prefix: bool, distance: int = 1) -> Optional[Q]:
        """A prefix or fuzzy word, expanded against the index's terms."""
        raise NotImplementedError

    def dates(self, start: Optional[datetime], end: Optional[datetime]) -> Optional[Q]:
        """Articles published within inclusive bounds (either may be open)."""
        raise NotImplementedError

    def either(self, kids: List[Q], need: int) -> Optional[Q]:
        """Any *need* of *kids* (an Or: 1; a nested at-least-k-of keeps its k where the wing can)."""
        raise NotImplementedError

    def both(self, pos: List[Q], neg: List[Q]) -> Optional[Q]:
        """Every one of *pos* and none of *neg* (either list may be empty)."""
        raise NotImplementedError
