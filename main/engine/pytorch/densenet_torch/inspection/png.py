"""8-bit PNG encoding for activation maps and thumbnails (PNG spec, ISO/IEC 15948: IHDR, one zlib
IDAT with filter type 0 per row, IEND). Written with the standard library because this engine
depends on torch and torchvision only; the images are a few dozen pixels wide."""
import base64
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(pixels: bytes, width: int, height: int, channels: int = 1) -> bytes:
    """An 8-bit PNG of row-major pixels: grayscale (1 channel, colour type 0) or RGB (3, type 2)."""
    if channels not in (1, 3):
        raise ValueError(f"A PNG here has 1 (grayscale) or 3 (RGB) channels; got {channels}.")
    row = width * channels
    if len(pixels) != row * height:
        raise ValueError(f"A {width}×{height}×{channels} image needs {row * height} bytes; got {len(pixels)}.")
    raw = b"".join(b"\x00" + pixels[y * row:(y + 1) * row] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0 if channels == 1 else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def grayscale_png(pixels: bytes, width: int, height: int) -> bytes:
    return png(pixels, width, height, 1)


def grayscale_png_base64(pixels: bytes, width: int, height: int) -> str:
    return base64.b64encode(grayscale_png(pixels, width, height)).decode("ascii")
