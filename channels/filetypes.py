"""What an uploaded file really is, from its bytes: magic numbers against an allowlist, and image sizes from headers.

Pillow is not used on purpose: reading width and height needs a few header bytes, not a decoder,
and never decoding untrusted images keeps decompression bombs and codec bugs out of the server.
"""

from __future__ import annotations

import struct
import unicodedata
from typing import Final

import msgspec

__all__ = ["FileType", "early_refusal", "image_size", "refused_extension", "safe_filename", "sniff"]


class FileType(msgspec.Struct, frozen=True, kw_only=True):
    """An allowed kind of file: its served ``Content-Type`` and the file name extensions that fit it."""

    content_type: str
    extensions: tuple[str, ...]
    is_image: bool = False


PNG: Final = FileType(content_type="image/png", extensions=(".png",), is_image=True)
JPEG: Final = FileType(content_type="image/jpeg", extensions=(".jpg", ".jpeg", ".jfif"), is_image=True)
GIF: Final = FileType(content_type="image/gif", extensions=(".gif",), is_image=True)
WEBP: Final = FileType(content_type="image/webp", extensions=(".webp",), is_image=True)
PDF: Final = FileType(content_type="application/pdf", extensions=(".pdf",))
DOCX: Final = FileType(
    content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document", extensions=(".docx",)
)
XLSX: Final = FileType(
    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", extensions=(".xlsx",)
)
PPTX: Final = FileType(
    content_type="application/vnd.openxmlformats-officedocument.presentationml.presentation", extensions=(".pptx",)
)
ODF: Final = {
    b"application/vnd.oasis.opendocument.text": FileType(
        content_type="application/vnd.oasis.opendocument.text", extensions=(".odt",)
    ),
    b"application/vnd.oasis.opendocument.spreadsheet": FileType(
        content_type="application/vnd.oasis.opendocument.spreadsheet", extensions=(".ods",)
    ),
    b"application/vnd.oasis.opendocument.presentation": FileType(
        content_type="application/vnd.oasis.opendocument.presentation", extensions=(".odp",)
    ),
}
TEXT: Final = FileType(content_type="text/plain; charset=utf-8", extensions=(".txt", ".text", ".log", ".md"))
CSV: Final = FileType(content_type="text/csv; charset=utf-8", extensions=(".csv",))

# Programs and anything a browser or desktop would run or render as a page, by name: refused
# whatever the bytes say, so a downloaded file is never opened by an interpreter.
REFUSED_EXTENSIONS: Final = frozenset(
    [
        ".exe",
        ".dll",
        ".com",
        ".bat",
        ".cmd",
        ".msi",
        ".msix",
        ".msp",
        ".scr",
        ".pif",
        ".cpl",
        ".ps1",
        ".psm1",
        ".vbs",
        ".vbe",
        ".js",
        ".mjs",
        ".cjs",
        ".jse",
        ".wsf",
        ".wsh",
        ".hta",
        ".jar",
        ".apk",
        ".app",
        ".dmg",
        ".pkg",
        ".deb",
        ".rpm",
        ".sh",
        ".bash",
        ".zsh",
        ".php",
        ".phtml",
        ".html",
        ".htm",
        ".xhtml",
        ".shtml",
        ".svg",
        ".svgz",
        ".xml",
        ".xsl",
        ".swf",
        ".lnk",
        ".reg",
        ".iso",
        ".docm",
        ".xlsm",
        ".pptm",
        ".url",
        ".desktop",
    ]
)
# Executable formats by their first bytes (ELF, PE/DOS, Mach-O and fat binaries, WebAssembly,
# Dalvik, scripts with an interpreter line).
EXECUTABLE_MAGIC: Final = (
    b"\x7fELF",
    b"MZ",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\x00asm",
    b"dex\n",
    b"#!",
)
MARKUP_STARTS: Final = (b"<!doctype", b"<html", b"<head", b"<body", b"<svg", b"<?xml", b"<script", b"<iframe")
EARLY_BYTES: Final = 16
"""Bytes enough to recognise an executable before storing the rest of it."""


def early_refusal(head: bytes) -> str | None:
    """Why a file starting with ``head`` is refused outright, or None.

    >>> early_refusal(b"\\x7fELF\\x02\\x01")
    'an executable program'
    """
    if head.startswith(EXECUTABLE_MAGIC):
        return "an executable program"
    return None


def refused_extension(filename: str) -> bool:
    """Whether the name's extension is one of a program or a web page (``report.html``: True)."""
    return _extension(filename) in REFUSED_EXTENSIONS


def sniff(head: bytes, tail: bytes, *, size: int, filename: str) -> FileType | None:
    """The allowed type of a file from its first bytes (``head``) and last bytes (``tail``); None if not allowed.

    The client's ``Content-Type`` is never consulted. The name only picks between two equally
    harmless text types (``.csv`` makes UTF-8 text ``text/csv``).
    """
    if early_refusal(head):
        return None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _office_document(head, tail, size=size)
    return _text(head, complete=size == len(head), filename=filename)


def _office_document(head: bytes, tail: bytes, *, size: int) -> FileType | None:
    # OpenDocument: the first entry is "mimetype", stored uncompressed, holding the type.
    if head[30:38] == b"mimetype":
        extra = int.from_bytes(head[28:30], "little")
        stored = int.from_bytes(head[18:22], "little")
        start = 38 + extra
        return ODF.get(bytes(head[start : start + stored]))
    names = _zip_names(tail, size=size)
    if names is None or any(name.lower().endswith("vbaproject.bin") for name in names):
        return None  # unreadable directory, or Office macros
    for marker, kind in (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX)):
        if marker in names:
            return kind
    return None


def _zip_names(tail: bytes, *, size: int) -> set[str] | None:
    """Entry names from a ZIP's central directory, if ``tail`` (the file's last bytes) holds all of it."""
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        return None
    directory_size, directory_offset = struct.unpack("<II", tail[end + 12 : end + 20])
    start = directory_offset - (size - len(tail))
    if start < 0 or start + directory_size > end:
        return None
    names: set[str] = set()
    position = start
    while position + 46 <= start + directory_size and tail[position : position + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack("<HHH", tail[position + 28 : position + 34])
        names.add(tail[position + 46 : position + 46 + name_length].decode("utf-8", "replace"))
        position += 46 + name_length + extra_length + comment_length
    return names


def _text(head: bytes, *, complete: bool, filename: str) -> FileType | None:
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Only a multi-byte character cut off at the end of an incomplete head is forgiven.
        if complete or exc.start < len(head) - 3:
            return None
        text = head[: exc.start].decode("utf-8-sig")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text[:4096]):
        return None
    if text.lstrip().lower().encode().startswith(MARKUP_STARTS):
        return None
    return CSV if _extension(filename) == ".csv" else TEXT


def image_size(kind: FileType, head: bytes) -> tuple[int, int] | None:
    """Width and height in pixels from an image's header bytes, or None if they are not there.

    >>> image_size(GIF, b"GIF89a\\x10\\x00\\x20\\x00")
    (16, 32)
    """
    try:
        if kind is PNG and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
            return int(width), int(height)
        if kind is GIF:
            width, height = struct.unpack("<HH", head[6:10])
            return int(width), int(height)
        if kind is WEBP:
            return _webp_size(head)
        if kind is JPEG:
            return _jpeg_size(head)
    except struct.error:
        return None
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20:21] == b"\x2f":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


# Start-of-frame markers carry the size; 0xC4 (DHT), 0xC8 (JPG) and 0xCC (DAC) share the range but do not.
_SOF_MARKERS: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(head: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 4 <= len(head):
        if head[position] != 0xFF:
            return None
        marker = head[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            position += 2
            continue
        if marker == 0xDA:  # start of scan: no frame header before it
            return None
        (length,) = struct.unpack(">H", head[position + 2 : position + 4])
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", head[position + 5 : position + 9])
            return int(width), int(height)
        position += 2 + length
    return None


def safe_filename(raw: str, kind: FileType | None = None) -> str:
    """A file name safe to store and send back: no path, no control characters, at most 200 characters.

    With ``kind``, a name whose extension does not fit the type gets the type's own appended, so a
    downloaded file opens in the program its bytes are for.

    >>> safe_filename("../../etc/photo.dat", PNG)
    'photo.dat.png'
    """
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"))
    name = name.strip().strip(".").strip() or "file"
    if kind is not None and _extension(name) not in kind.extensions:
        name = f"{name}{kind.extensions[0]}"
    if len(name) > 200:
        extension = _extension(name)
        name = name[: 200 - len(extension)] + extension
    return name


def _extension(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(".")
    return "." + base.rsplit(".", 1)[1].lower() if "." in base else ""
