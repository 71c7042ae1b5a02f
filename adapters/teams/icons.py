"""The app package's two icons, drawn in code as real PNGs (zlib + struct, no image library):
three people around a table — a community in a circle."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

Pixel = tuple[int, int, int, int]
TEAL: Pixel = (38, 110, 116, 255)
WHITE: Pixel = (255, 255, 255, 255)
CLEAR: Pixel = (0, 0, 0, 0)


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """Encode an RGBA image given by ``pixel(x, y)``."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _glyph(size: int) -> Callable[[float, float], bool]:
    """True where the white figure is: three heads on a ring around a round table."""
    c = size / 2
    heads = [(c, size * 0.22), (size * 0.24, size * 0.68), (size * 0.76, size * 0.68)]
    head_r = size * 0.12
    table_r = size * 0.15

    def inside(x: float, y: float) -> bool:
        if (x - c) ** 2 + (y - c * 1.08) ** 2 <= table_r**2:
            return True
        return any((x - hx) ** 2 + (y - hy) ** 2 <= head_r**2 for hx, hy in heads)

    return inside


def color_icon(size: int = 192) -> bytes:
    """Full-colour icon: the white figure on a teal square."""
    inside = _glyph(size)
    return png(size, size, lambda x, y: WHITE if inside(x + 0.5, y + 0.5) else TEAL)


def outline_icon(size: int = 32) -> bytes:
    """Outline icon as Teams requires: white on a transparent background, nothing else."""
    inside = _glyph(size)
    return png(size, size, lambda x, y: WHITE if inside(x + 0.5, y + 0.5) else CLEAR)
