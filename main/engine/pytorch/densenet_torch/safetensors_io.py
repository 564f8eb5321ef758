"""The safetensors format (huggingface/safetensors, "Format"): an 8-byte little-endian header
length N, N bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
{str: str}}` padded with spaces to a multiple of 8, then the raw little-endian data, offsets
relative to its start. Written here because the `safetensors` package is not a dependency of this
engine (it is used when installed, see `load`); only float32 tensors are written or read."""
import json
import struct
from typing import Dict, List, Mapping, Optional, Tuple

import torch

MAX_HEADER = 100_000_000


def encode(tensors: List[Tuple[str, torch.Tensor]], metadata: Optional[Mapping[str, str]] = None) -> Tuple[bytes, Dict[str, int]]:
    """The file's bytes, and where each tensor's data starts in the file (absolute byte offset)."""
    header: Dict[str, object] = {"__metadata__": dict(metadata)} if metadata else {}
    offset = 0
    blobs = []
    for name, t in tensors:
        data = t.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4", copy=False).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    start = 8 + len(text)
    starts = {name: start + header[name]["data_offsets"][0] for name, _ in tensors}  # type: ignore[index]
    return struct.pack("<Q", len(text)) + text + b"".join(blobs), starts


def decode(data: bytes, label: str = "the file") -> Dict[str, torch.Tensor]:
    """Every F32 tensor of a safetensors file, validated (an edited or truncated file is refused)."""
    def fail(what: str) -> ValueError:
        return ValueError(f"{label} is not a valid safetensors file: {what}")
    if len(data) < 8:
        raise fail(f"it is {len(data)} bytes long, shorter than the 8-byte header length.")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or 8 + n > len(data):
        raise fail(f"the header claims {n} bytes but {len(data) - 8} follow the length field.")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except ValueError as err:
        raise fail(f"the header is not UTF-8 JSON ({err}).") from None
    body = memoryview(data)[8 + n:]
    out: Dict[str, torch.Tensor] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry.get("dtype") != "F32":
            raise fail(f'tensor "{name}" has dtype {entry.get("dtype")!r}; only F32 is read here.')
        begin, end = entry["data_offsets"]
        shape = [int(d) for d in entry["shape"]]
        count = 1
        for d in shape:
            count *= d
        if end - begin != 4 * count or end > len(body) or begin < 0:
            raise fail(f'tensor "{name}" of shape {shape} does not fit its offsets [{begin}, {end}].')
        out[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.float32).reshape(shape) if count else torch.zeros(shape)
    return out
