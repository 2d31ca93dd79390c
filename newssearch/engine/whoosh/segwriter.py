"""FastSegmentWriter: a Whoosh segment written from in-memory per-term postings."""
from __future__ import annotations

from array import array
from itertools import chain, groupby
from operator import sub as _sub
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from whoosh import writing

from ... import analysis, dedupe
from .codec import _INLINE_POSTINGS, PackedPositions, _packed
from .schema import NewsTokenizer

_TEXT_FIELDS = ("title", "body")
"""The analysed text fields, in the order their words make the near-duplicate sketch."""


def _signature_fields(sig: Tuple[int, ...]) -> Dict[str, object]:
    """The dupsig column value of a sketch (nothing for an empty one)."""
    if not sig:
        return {}
    return {"dupsig": dedupe.to_bytes(sig)}



class FastSegmentWriter(writing.SegmentWriter):
    """A Whoosh SegmentWriter that keeps postings in memory, per term, instead of
    sending each posting through Whoosh's pool, sorter and per-posting codec calls.

    Whoosh spends most of its indexing time per posting (pool add, pickling each
    position list, sorting, ``add_posting`` and a column read for every posting's
    document length). Here a document's text fields are analysed once into
    term -> positions, appended to per-term arrays, and at commit every term's
    postings are written a block at a time, with document lengths taken from memory.
    The segment it writes is an ordinary Whoosh segment (same codec, same formats), so
    Whoosh reads, merges and searches it as usual.

    It never merges segments while committing (merging goes through Whoosh's pool);
    :meth:`WhooshEngine.upsert` merges small segments with a plain writer when they pile up.
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        # field -> term (str for analysed text, bytes otherwise) -> [docnums, freqs, values]
        self._post: Dict[str, Dict[object, list]] = {}
        # field -> weight multiplier (the format's field boost)
        self._boost: Dict[str, float] = {}
        # field -> document lengths (tokens), indexed by docnum - docbase
        self._lengths: Dict[str, array] = {}

    def _posting_table(self, fieldname: str, field) -> Dict[object, list]:
        table = self._post.get(fieldname)
        if table is None:
            table = self._post[fieldname] = {}
            self._boost[fieldname] = field.format.field_boost
            self._lengths[fieldname] = array("I")
        return table

    def add_document(self, **fields):
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        rel = docnum - self.docbase
        lang = fields.get("lang")
        # title and body are analysed once, up front: their terms are indexed below and
        # their token surfaces give the near-duplicate sketch when the caller left it to us
        analysed: Dict[str, Tuple[List[str], Optional[List[int]]]] = {}
        words: List[str] = []
        for name in _TEXT_FIELDS:
            value = fields.get(name)
            if value is not None and isinstance(schema[name].analyzer, NewsTokenizer):
                terms, positions, surfaces = analysis.index_terms_words(value, lang=lang)
                analysed[name] = (terms, positions)
                words += surfaces
        if "dupsig" not in fields and "dupsig" in schema:
            fields.update(_signature_fields(dedupe.signature_of_words(words)))
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    table = self._posting_table(fieldname, field)
                    pre = analysed.get(fieldname)
                    if pre is not None:
                        length = self._index_terms(table, pre[0], pre[1], docnum)
                    elif isinstance(field.analyzer, NewsTokenizer):
                        terms, positions = analysis.index_terms(value, lang=lang)
                        length = self._index_terms(table, terms, positions, docnum)
                    else:
                        for tbytes, freq, _weight, vbytes in field.index(value):
                            entry = table.get(tbytes)
                            if entry is None:
                                entry = table[tbytes] = [array("I"), array("I"), []]
                            entry[0].append(docnum)
                            entry[1].append(freq)
                            entry[2].append(vbytes or b"")
                            if field.scorable:
                                length += freq
                    lengths = self._lengths[fieldname]
                    while len(lengths) < rel:
                        lengths.append(0)
                    lengths.append(length)
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    @staticmethod
    def _index_terms(table: Dict[object, list], terms: List[str], positions: Optional[List[int]], docnum: int) -> int:
        getterm = terms.__getitem__
        # group positions by term with a C-level sort instead of a Python loop per token
        # (the sort is stable, so each term's positions stay in order)
        order = sorted(range(len(terms)), key=getterm)
        for term, group in groupby(order, getterm):
            poslist = list(group) if positions is None else [positions[i] for i in group]
            entry = table.get(term)
            if entry is None:
                # docnums, frequencies, then every posting's positions delta-coded from 0
                entry = table[term] = [array("I"), array("I"), array("I")]
            entry[0].append(docnum)
            n = len(poslist)
            entry[1].append(n)
            if n == 1:
                entry[2].append(poslist[0])
            else:
                entry[2].extend(map(_sub, poslist, chain((0,), poslist)))
        # Whoosh counts a field's length as the terms it indexed, forms included
        return len(terms)

    def add_reader(self, reader):  # pragma: no cover - merging is done by a plain writer
        raise NotImplementedError("FastSegmentWriter does not merge; use a plain Whoosh writer")

    def commit(self, mergetype=None, optimize=None, merge=None):
        # never merge here: Whoosh merges by feeding other segments through its pool
        return super().commit(mergetype=writing.NO_MERGE)

    def commit_with(
        self, extra_segments: Callable[[], Sequence[object]] = tuple, superseded: Iterable[int] = ()
    ) -> None:
        """Commit this writer's segment plus segments written by other processes.

        *extra_segments* is called after this writer's own segment is written, so another
        process can finish its segment meanwhile. *superseded* are segment-relative
        docnums of this writer's documents that a later copy in the same batch replaced.
        """
        self._check_state()
        final = list(self.segments)
        if self._added:
            own = self._finalize_segment()
            for rel in superseded:
                own.delete_document(rel)
            final.append(own)
        else:
            self._close_segment()
        final.extend(extra_segments())
        self._commit_toc(final)
        self._finish()

    def _flush_segment(self):
        self.perdocwriter.close()
        fw = self.fieldwriter
        doccount = self.docnum - self.docbase
        for fieldname in sorted(self._post):
            field = self.schema[fieldname]
            boost = self._boost[fieldname]
            lengths = self._lengths[fieldname]
            lengths.extend([0] * (doccount - len(lengths)))
            base = self.docbase
            table = self._post[fieldname]
            keys = sorted(table)  # str sorts as its UTF-8 bytes do
            fw.start_field(fieldname, field)
            pw = fw._postwriter
            limit = pw._blocklimit
            packed = isinstance(field.analyzer, NewsTokenizer)
            if fieldname not in _TEXT_FIELDS:
                # rare terms of id/date/key fields go in the term table, not a block each
                pw._inlinelimit = _INLINE_POSTINGS + 1
            for key in keys:
                docs, freqs, values = table[key]
                fw.start_term(key.encode("utf-8") if isinstance(key, str) else key)
                n = len(docs)
                offset = 0
                for start in range(0, n, limit):
                    if start:
                        pw._write_block()  # writes the previous block and starts a new one
                    ids = docs[start : start + limit]
                    fr = freqs[start : start + limit]
                    pw._ids = ids
                    pw._weights = array("f", [f * boost for f in fr]) if boost != 1.0 else array("f", fr)
                    pw._maxweight = max(pw._weights)
                    if packed:  # text: each posting's positions are `freq` deltas
                        end = offset + sum(fr)
                        pw._values = PackedPositions(_packed(fr), _packed(values[offset:end]))
                        offset = end
                    else:
                        vals = values[start : start + limit]
                        pw._values = vals if any(vals) else []
                    if field.scorable:
                        lens = list(map(lengths.__getitem__, ids)) if not base else [lengths[d - base] for d in ids]
                        pw._minlength = min(lens) or None
                        pw._maxlength = max(lens)
                fw.finish_term()
            fw.finish_field()
        self._post.clear()
        fw.close()

