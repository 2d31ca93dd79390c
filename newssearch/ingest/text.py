"""Bytes to clean text: encodings, control characters, HTML reduced to text.

Every reader that gets bytes decodes them here, so the rules are the same for every
format: a BOM wins (UTF-8, UTF-16, UTF-32); then a charset the source declared (HTTP
header, XML declaration, HTML meta); then UTF-8; and only then cp1252 (or latin-1),
with a warning, because a guess may be wrong.
"""
from __future__ import annotations

import codecs
import html
import re
import unicodedata
from html.parser import HTMLParser
from typing import Optional

__all__ = ["decode", "clean", "html_to_text", "declared_charset", "looks_binary"]

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
    bom = bom_encoding(data)
    if bom:
        return data.decode(bom, errors="replace"), None
    for name in (declared, "utf-8"):
        if not name:
            continue
        try:
            return data.decode(name), None
        except (UnicodeDecodeError, LookupError):
            continue
    # cp1252 first: it is what "latin-1" text from Windows tools usually is (curly quotes
    # at 0x91-0x94); its five unassigned bytes fall back to latin-1
    try:
        return data.decode("cp1252"), "not UTF-8: read as cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "not UTF-8: read as latin-1"


def clean(text: str) -> str:
    """*text* without control characters, line ends as ``\\n``, lone surrogates (a JSON
    ``"\\ud800"`` escape) as U+FFFD, normalised to NFC: always encodable as UTF-8."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
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
