"""Bytes to clean text: encodings, control characters, HTML reduced to text.

Every reader that gets bytes decodes them here, so the rules are the same for every
format: a BOM wins (UTF-8, UTF-16, UTF-32); then a charset the source declared (HTTP
header, XML declaration, HTML meta); then UTF-8; then, for text in another script, the
legacy code page charset-normalizer detects (cp1256 Arabic, cp1255 Hebrew, cp1251
Cyrillic ...); and only then cp1252 (or latin-1). A guess always comes with a warning
naming the encoding used. ``index --encoding NAME`` (:func:`forced_encoding`) overrides
all of it.
"""
from __future__ import annotations

import codecs
import html
import re
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from html.parser import HTMLParser
from typing import Iterator, Optional, Tuple

from ..errors import BadInput

__all__ = ["decode", "decode_as", "clean", "html_to_text", "declared_charset", "looks_binary", "forced_encoding",
           "forced"]

_FORCED: ContextVar[Optional[str]] = ContextVar("newssearch_forced_encoding", default=None)
DETECT_SAMPLE = 256 * 1024
"""Bytes charset-normalizer looks at to name a legacy encoding."""
# scripts whose legacy code pages a detector tells apart reliably; for Latin text its
# guesses (cp1250 for French, say) are worse than cp1252, so Latin text stays cp1252
_DETECTED_SCRIPTS = ("Arabic", "Hebrew", "Cyrillic", "Greek", "Thai", "Armenian", "Georgian")
_SCRIPT_LETTERS = re.compile("[\u0370-\u03ff\u0400-\u04ff\u0530-\u058f\u0590-\u05ff\u0600-\u06ff\u0e00-\u0e7f\u10a0-\u10ff]")


@contextmanager
def forced_encoding(name: Optional[str]) -> Iterator[None]:
    """Within the block every input is read as *name* (``index --encoding``); None: detect."""
    if name:
        try:
            name = codecs.lookup(name).name
        except LookupError:
            raise BadInput(f"unknown encoding {name!r} (use a Python codec name such as cp1256, cp1255, latin-1)") from None
    token = _FORCED.set(name or None)
    try:
        yield
    finally:
        _FORCED.reset(token)


def forced() -> Optional[str]:
    """The encoding :func:`forced_encoding` set, if any."""
    return _FORCED.get()


def _detect(data: bytes) -> Optional[str]:
    """The legacy code page of non-Latin text in *data* (charset-normalizer), else None."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency; without it Latin-1 rules apply
        return None
    best = from_bytes(data[:DETECT_SAMPLE]).best()
    if best is None or best.encoding in ("ascii", "utf_8"):
        return None
    if not any(a.startswith(_DETECTED_SCRIPTS) for a in best.alphabets):
        return None
    try:
        sample = data[:DETECT_SAMPLE].decode(best.encoding, errors="ignore")
        data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    # a stray byte in Latin text (0x81 is Arabic پ in cp1256) is no reason to read it all as
    # Arabic: the script must be a real share of the letters
    letters = sum(1 for ch in sample if ch.isalpha())
    script = len(_SCRIPT_LETTERS.findall(sample))
    return best.encoding if letters and script >= 0.3 * letters else None

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# C0/C1 controls except tab, newline, carriage return; plus the NUL's cousins that
# editors and scrapers leave behind. They carry no text and break terminals and CSV.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# half of a UTF-16 pair with no other half: JSON's "\ud800" decodes to one, and no UTF-8
# output (terminal, --json, --csv) can print it
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"
"""Printable ASCII, tab and newline: the bytes of text that needs no cleaning."""
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)


def bom_encoding(data: bytes) -> Optional[str]:
    """The encoding a byte-order mark at the start of *data* names, or None."""
    return next((enc for bom, enc in _BOMS if data.startswith(bom)), None)


def looks_binary(data: bytes) -> bool:
    """True when *data* (a file's first bytes) is not text: NUL bytes without a UTF-16/32 BOM."""
    return b"\x00" in data[:8192] and bom_encoding(data) not in ("utf-16", "utf-32")


def declared_charset(data: bytes) -> Optional[str]:
    """The charset an XML declaration or an HTML ``<meta>`` in the first 4 KiB names, if known."""
    head = data[:4096]
    match = _XML_DECL.match(head) or _META_CHARSET.search(head)
    if not match:
        return None
    name = match.group(1).decode("ascii", "replace")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(data: bytes, declared: Optional[str] = None) -> tuple[str, Optional[str]]:
    """*data* as text, and a warning when the encoding had to be guessed (else None).

    *declared* is a charset the source named (an HTTP header, an XML or HTML declaration).
    """
    text, _encoding, warning = decode_as(data, declared)
    return text, warning


def decode_as(data: bytes, declared: Optional[str] = None, legacy: Optional[str] = None) -> Tuple[str, str, Optional[str]]:
    """(text, encoding used, warning or None) for *data*; see :func:`decode`.

    *legacy*: an encoding detected earlier in the same input (a JSON lines file decodes a
    line at a time), tried before detecting again.
    """
    if _FORCED.get():
        return data.decode(_FORCED.get(), errors="replace"), _FORCED.get(), None
    bom = bom_encoding(data)
    if bom:
        return data.decode(bom, errors="replace"), bom, None
    for name in (declared, "utf-8"):
        if not name:
            continue
        try:
            return data.decode(name), name, None
        except (UnicodeDecodeError, LookupError):
            continue
    for name in (legacy, _detect(data)) if legacy else (_detect(data),):
        if name:
            try:
                return data.decode(name), name, f"not UTF-8: read as {name} (detected)"
            except (UnicodeDecodeError, LookupError):
                continue
    # cp1252 first: it is what "latin-1" text from Windows tools usually is (curly quotes
    # at 0x91-0x94); its five unassigned bytes fall back to latin-1
    try:
        return data.decode("cp1252"), "cp1252", "not UTF-8: read as cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", "not UTF-8: read as latin-1"


def clean(text: str) -> str:
    """*text* without control characters, line ends as ``\\n``, lone surrogates (a JSON
    ``"\\ud800"`` escape) as U+FFFD, normalised to NFC: always encodable as UTF-8."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # ASCII of printable characters, tabs and line ends only (most text) holds nothing
    # _CONTROL removes: deleting those bytes leaves nothing, found at a sixth of the regex's cost
    if text.isascii() and not text.encode("ascii").translate(None, _PLAIN_ASCII):
        return text
    text = _CONTROL.sub("", text)
    # ASCII is NFC already; skipping the call is most of this function's cost on English text
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _SURROGATE.sub("\ufffd", text))


_BLOCK = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote pre tr table section article header footer figure figcaption".split()
)
_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "head"})


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """A fragment of HTML (a feed item's summary, say) as plain paragraphs.

    Scripts and styles are dropped, block elements become paragraph breaks, entities are
    decoded. Text without tags comes back with only its whitespace tidied.
    """
    if "<" not in markup:
        text = html.unescape(markup)
    else:
        parser = _TextParser()
        try:
            parser.feed(markup)
            parser.close()
        except (AssertionError, ValueError):  # html.parser on pathological markup
            pass
        text = "".join(parser.parts)
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)
