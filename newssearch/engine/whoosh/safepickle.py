"""Every unpickling of index data goes through here: a restricted unpickler.

A Whoosh index keeps pickles on disk: the table of contents (``_MAIN_N.toc``: the
schema, which ``whoosh.index.exists_in`` unpickles, and the segment list), and inside each
segment file its directory, the term table's header, block headers, posting blocks,
inlined postings, column headers and stored fields. Plain ``pickle`` calls whatever
global a pickle names, so an index directory someone else made could run code on
``newssearch query``. Here a pickle may only name the globals of :data:`ALLOWED` (what the
indexes newssearch writes hold); any other global raises
:class:`~newssearch.errors.UntrustedIndex` naming the file and the global, before
anything of the pickle ran.

:func:`install` runs once, when :mod:`newssearch.engine.whoosh` is imported (before any of
its modules reads an index), and is the one place that patches Whoosh. It replaces each
name through which Whoosh's readers reach pickle:

- ``whoosh.compat.load`` / ``loads`` / ``pickle``, and the copies of ``loads`` that
  ``whoosh.codec.whoosh3`` (posting blocks, inlined postings), ``whoosh.columns``
  (stored fields: a PickleColumn) and ``whoosh.formats`` (position values) imported;
  modules importing them later (``whoosh.codec.whoosh2``, ``plaintext``,
  ``multiproc``) get ours;
- ``StructFile.read_pickle`` (the TOC's segment list, compound directories, term table
  and column headers, block headers) and ``whoosh.filedb.structfile.load_pickle``;
- ``whoosh.index.pickle`` (the TOC's schema), with ``TOC.read`` wrapped to name the TOC
  file when its schema is refused, and ``whoosh.legacy.RenamingUnpickler`` (old TOCs).

The wing's own readers (:mod:`.store`, :mod:`.codec`) call :func:`load` and :func:`loads`.

Speed: the C unpickler calls :meth:`_Restricted.find_class` only for the opcodes that
name a global, and each allowed global is resolved once and cached. A pickle none of
whose bytes is such an opcode (most position lists and block headers) cannot reach any
callable and goes to plain ``pickle.loads``.

Not covered: Whoosh-1 modules (``whoosh.filedb.fileindex``, ``filereading``, ``misc``)
that import pickle themselves are never reached, since reaching them takes classes that
are not allowed (they unpickle with marshal, too, which builds data, never calls); and
the wing's helper process (:mod:`.parallel`) talks plain pickle with its parent, never
with data from an index directory.
"""
from __future__ import annotations

import functools
import importlib
import os
import pickle
import re
import sys
import types
from io import BytesIO
from typing import Any, Callable, Dict, FrozenSet, Optional, Tuple, TypeVar

from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING

from ...errors import UntrustedIndex

__all__ = ["ALLOWED", "install", "load", "loads", "reports_location"]

ALLOWED: FrozenSet[str] = frozenset(
    {
        # the TOC's segment list: our segment class, its codec, its field lengths (a
        # defaultdict(int))
        "newssearch.engine.whoosh.NewsSegment",
        "newssearch.engine.whoosh.NewsCodec",
        "collections.defaultdict",
        "builtins.int",
        # Whoosh's own segment and codec, the bases of ours: segments Whoosh's own writer
        # wrote in our schema (the tests' reference index) read as ours do
        "whoosh.codec.whoosh3.W3Segment",
        "whoosh.codec.whoosh3.W3Codec",
        # posting blocks: ids and weights as arrays, positions as PackedPositions
        "array.array",
        "array._array_reconstructor",
        "newssearch.engine.whoosh._unpack_positions",
        # stored fields (protocol 2): the publication time, and bytes (see _STAND_INS)
        "datetime.datetime",
        "_codecs.encode",
        # the TOC's schema: whoosh.index.exists_in unpickles it (then drops it; readers
        # use the wing's own schema)
        "whoosh.fields.Schema",
        "whoosh.fields.TEXT",
        "whoosh.fields.ID",
        "whoosh.fields.KEYWORD",
        "whoosh.fields.DATETIME",
        "whoosh.fields.STORED",
        "whoosh.fields.COLUMN",
        "whoosh.formats.Existence",
        "whoosh.formats.Frequency",
        "whoosh.formats.Positions",
        "whoosh.columns.NumericColumn",
        "whoosh.columns.VarBytesColumn",
        "whoosh.analysis.analyzers.CompositeAnalyzer",
        "whoosh.analysis.tokenizers.IDTokenizer",
        "whoosh.analysis.tokenizers.RegexTokenizer",
        "whoosh.analysis.filters.LowercaseFilter",
        "newssearch.engine.whoosh.NewsTokenizer",
        "re._compile",  # a compiled pattern pickles as re._compile(pattern, flags)
    }
)
"""Every global a pickle in an index may name, as ``module.name``, Python 2 names mapped
to Python 3 ones first (``__builtin__.int`` is ``builtins.int``). Found by logging every
global unpickled while the test suite ran and while indexes of the benchmark corpora were
built, updated, pruned, merged, rolled back and searched: nothing else ever appears."""


def _latin1(text: object, encoding: str = "latin1", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as protocol 2 pickles call it, for a ``bytes`` value: latin-1
    only (the codec name comes from the pickle, and could name any codec)."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise refusal(f"_codecs.encode with {_shown(str(encoding))}")
    return text.encode("latin-1")


_STAND_INS: Dict[str, Any] = {"_codecs.encode": _latin1}
"""Allowed globals resolved to a narrower function than the one named."""

_REFUSAL = "refused (not an index newssearch wrote)"
_found: Dict[Tuple[str, str], Any] = {}
"""Allowed globals already resolved, by the (module, name) the pickle gave."""


def _shown(text: str) -> str:
    """A name from the pickle, safe to print in one line."""
    return text if re.fullmatch(r"[\w.]{1,120}", text) else repr(text[:120])


def _path_of(origin: object) -> Tuple[Optional[str], Optional[str]]:
    """(absolute path of the file, name of the part inside it) of a reader, as far as known:
    a path, a StructFile, or a part of a compound segment file (:mod:`.store`)."""
    if origin is None:
        return None, None
    if isinstance(origin, str):
        return (origin, None) if os.path.isabs(origin) else (None, origin)
    part = getattr(origin, "_origin", None)
    if part is not None:
        return part
    name = getattr(getattr(origin, "file", None), "name", None)
    if isinstance(name, str):
        return os.path.abspath(name), None
    name = getattr(origin, "_name", None)
    return None, (name if isinstance(name, str) else None)


def refusal(asked: str, origin: object = None, where: object = None, part: Optional[str] = None) -> UntrustedIndex:
    """The error for a pickle asking for *asked*, read from *origin* (a path or a reader)
    of the index at *where* (a directory), as much of them as is known."""
    path, found_part = _path_of(origin)
    part = found_part or part
    if path is not None:
        directory, name = os.path.split(path)
        inside = f"{name} (part {part})" if part else name
        head = f"index at {directory}"
    else:
        inside = part or "a segment file"
        head = f"index at {where}" if where is not None else "an index being read"
    message = f"{head} holds a pickle that asks for {asked} in {inside}: {_REFUSAL}"
    return UntrustedIndex(message, asked=asked, path=path, part=part)


def _resolve(module: str, name: str) -> Any:
    """An allowed global, or UntrustedIndex (every call after the first is a dict hit)."""
    mod, attr = module, name
    if (mod, attr) in NAME_MAPPING:  # Python 2 names, as protocol 2 pickles give them
        mod, attr = NAME_MAPPING[(mod, attr)]
    elif mod in IMPORT_MAPPING:
        mod = IMPORT_MAPPING[mod]
    qualified = f"{mod}.{attr}" if isinstance(mod, str) and isinstance(attr, str) else None
    if qualified not in ALLOWED:  # named as Python 3 resolves it (commands.call is subprocess.call)
        raise refusal(f"{_shown(str(mod))}.{_shown(str(attr))}")
    obj: Any = _STAND_INS.get(qualified)
    if obj is None:
        obj = importlib.import_module(mod)
        for step in attr.split("."):
            obj = getattr(obj, step)
    _found[(module, name)] = obj
    return obj


class _Restricted(pickle.Unpickler):
    """The C unpickler, resolving only :data:`ALLOWED` globals."""

    def find_class(self, module: str, name: str) -> Any:
        found = _found.get((module, name))
        return found if found is not None else _resolve(module, name)


_LOOKS_UP = re.compile(rb"[ci\x82\x83\x84\x93]").search
"""Bytes of the only opcodes that make the unpickler look a global up (GLOBAL, INST,
EXT1/2/4, STACK_GLOBAL). Without any of them a pickle can build only plain data: every
callable the unpickler could call (REDUCE, NEWOBJ, BUILD, OBJ) comes from a look-up."""


def loads(data: Any, origin: object = None) -> Any:
    """``pickle.loads`` allowing only :data:`ALLOWED` globals; *origin* names the file in errors."""
    if type(data) is not bytes:
        data = bytes(data)  # one immutable copy: what is checked is what is read
    if _LOOKS_UP(data) is None:
        return pickle.loads(data)
    try:
        return _Restricted(BytesIO(data)).load()
    except UntrustedIndex as exc:
        if origin is None or exc.path is not None:
            raise
        raise refusal(exc.asked, origin, part=exc.part) from None


def load(file: Any, origin: object = None) -> Any:
    """``pickle.load`` from *file* allowing only :data:`ALLOWED` globals."""
    try:
        return _Restricted(file).load()
    except UntrustedIndex as exc:
        if exc.path is not None:
            raise
        raise refusal(exc.asked, origin if origin is not None else file, part=exc.part) from None


def _read_pickle(self: Any) -> Any:
    """``StructFile.read_pickle`` through :func:`load`, naming the file in errors."""
    return load(self.file, self)


def _toc_reader(read: Callable[..., Any]) -> Callable[..., Any]:
    """``TOC.read`` naming the TOC file when its schema (unpickled through
    ``whoosh.index.pickle.loads``, which knows no file) is refused."""

    def toc_read(cls: Any, storage: Any, indexname: str, gen: Optional[int] = None, schema: Any = None) -> Any:
        try:
            return read(cls, storage, indexname, gen, schema)
        except UntrustedIndex as exc:
            if exc.path is not None:
                raise
            if gen is None:
                gen = cls._latest_generation(storage, indexname)
            name = cls._filename(indexname, gen)
            folder = getattr(storage, "folder", None)
            raise refusal(exc.asked, os.path.join(os.path.abspath(folder), name) if folder else name) from None

    return classmethod(toc_read)


class _LegacyUnpickler(_Restricted):
    """Stands in for ``whoosh.util.loading.RenamingUnpickler`` (Whoosh 1 TOCs): no renames,
    since none of the renamed classes is allowed anyway."""

    def __init__(self, f: Any, objmap: Any = None, shortcuts: Any = None) -> None:
        super().__init__(f)


_pickle_shim = types.ModuleType("pickle", "pickle with a restricted load and loads (newssearch)")
_pickle_shim.__dict__.update({k: v for k, v in vars(pickle).items() if not k.startswith("__")})
_pickle_shim.load = load
_pickle_shim.loads = loads
_pickle_shim.Unpickler = _Restricted

_installed = False


def install() -> None:
    """Route every unpickling Whoosh does while reading an index through :func:`loads`
    and :func:`load` (idempotent; run on import of :mod:`newssearch.engine.whoosh`)."""
    global _installed
    if _installed:
        return
    import whoosh.compat

    whoosh.compat.load = load  # before the modules below import them
    whoosh.compat.loads = loads
    whoosh.compat.pickle = _pickle_shim
    import whoosh.codec.whoosh3
    import whoosh.columns
    import whoosh.filedb.structfile
    import whoosh.formats
    import whoosh.index
    import whoosh.legacy

    for module in (whoosh.codec.whoosh3, whoosh.columns, whoosh.formats):
        module.loads = loads
    whoosh.filedb.structfile.load_pickle = load
    whoosh.filedb.structfile.StructFile.read_pickle = _read_pickle
    whoosh.index.pickle = _pickle_shim
    whoosh.index.TOC.read = _toc_reader(whoosh.index.TOC.read.__func__)
    whoosh.legacy.RenamingUnpickler = _LegacyUnpickler
    for name in ("whoosh.codec.whoosh2", "whoosh.codec.plaintext"):  # if imported before us
        module = sys.modules.get(name)
        if module is not None:
            module.loads = loads
    _installed = True


F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)


def _locating(func: F) -> F:
    @functools.wraps(func)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(self, *args, **kwargs)
        except UntrustedIndex as exc:
            if exc.path is not None:
                raise
            raise refusal(exc.asked, where=self._where, part=exc.part) from None

    return method  # type: ignore[return-value]


def reports_location(cls: C) -> C:
    """Class decorator: an UntrustedIndex raised by a public method of *cls* that knows no
    file (a pickle read lazily from a segment: a posting block, inlined postings, stored
    fields) names the index directory, ``self._where``."""
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and isinstance(value, types.FunctionType):
            setattr(cls, name, _locating(value))
    return cls
