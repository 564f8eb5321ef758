"""8-bit grayscale PNG encoding for activation maps (PNG spec, ISO/IEC 15948: IHDR, one zlib
IDAT with filter type 0 per row, IEND). Written with the standard library because this engine
depends on torch and torchvision only; the images are a few dozen pixels wide."""
import base64
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def grayscale_png(pixels: bytes, width: int, height: int) -> bytes:
    if len(pixels) != width * height:
        raise ValueError(f"A {width}×{height} grayscale image needs {width * height} bytes; got {len(pixels)}.")
    raw = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def grayscale_png_base64(pixels: bytes, width: int, height: int) -> str:
    return base64.b64encode(grayscale_png(pixels, width, height)).decode("ascii")
