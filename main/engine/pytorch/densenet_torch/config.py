"""DenseNetConfig checks and channel arithmetic, as shared/validation.ts and
shared/architecture/shapes.ts define them. A host validates every config before it reaches this
engine; these checks are for a run folder given to the standalone trainer, which may have been
edited by hand, so they raise with the same sentences instead of failing deep inside torch.
"""
import math
from typing import Any, Dict, List, Mapping

from .errors import UserError

FIELDS = ("variant", "blocks", "growthRate", "bottleneck", "compression", "initFeatures", "stem", "dropRate", "inputShape", "classes")


def transition_channels(m: int, compression: float) -> int:
    """⌊θ·m⌋ (paper §3, "Compression"), a plain floating-point floor as Keras' int(m * reduction)."""
    return int(math.floor(m * compression))


def _whole(v: Any, minimum: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def _window_out(size: int, window: int, stride: int, pad: int = 0) -> int:
    return (size + 2 * pad - window) // stride + 1


def block_sizes(size: int, stem: str, blocks: int) -> List[int]:
    """Side length after the stem and after each transition (shapes.ts blockSizes)."""
    first = size if stem == "cifar" else _window_out(_window_out(size, 7, 2, 3), 3, 2, 1)
    sizes = [first]
    for _ in range(1, blocks):
        sizes.append(_window_out(sizes[-1], 2, 2))
    return sizes


def config_problems(c: Any) -> List[str]:
    """Every problem with a config, as sentences naming the value and what is accepted."""
    if not isinstance(c, Mapping):
        return [f"A DenseNet config must be an object with {', '.join(FIELDS)}; got {c!r}."]
    p: List[str] = []
    missing = [f for f in FIELDS if f not in c]
    if missing:
        p.append(f"The DenseNet config has no {', '.join(missing)}.")
        return p
    blocks = c["blocks"]
    if not isinstance(blocks, list) or not blocks or not all(_whole(b, 1) for b in blocks):
        p.append(f"Blocks must be a non-empty list of layer counts, one per dense block (e.g. [6, 12, 24, 16]); got {blocks!r}.")
    if not _whole(c["growthRate"], 1):
        p.append(f"Growth rate k must be a whole number ≥ 1; got {c['growthRate']!r}.")
    if not isinstance(c["bottleneck"], bool):
        p.append(f"Bottleneck (B) must be true or false; got {c['bottleneck']!r}.")
    theta = c["compression"]
    if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not (0 < theta <= 1):
        p.append(f"Compression θ must be in (0, 1]; got {theta!r}.")
    if not _whole(c["initFeatures"], 1):
        p.append(f"Initial features (channels out of the stem) must be a whole number ≥ 1; got {c['initFeatures']!r}.")
    if c["stem"] not in ("imagenet", "cifar"):
        p.append(f"Stem must be \"imagenet\" (7×7/2 conv + 3×3/2 max-pool) or \"cifar\" (one 3×3 conv); got {c['stem']!r}.")
    drop = c["dropRate"]
    if isinstance(drop, bool) or not isinstance(drop, (int, float)) or not (0 <= drop < 1):
        p.append(f"Drop rate must be in [0, 1); got {drop!r}.")
    shape = c["inputShape"]
    if not isinstance(shape, list) or len(shape) != 3 or not _whole(shape[0], 1) or not _whole(shape[1], 1) or shape[2] not in (1, 3):
        p.append(f"Input shape must be [height, width, channels] with 1 or 3 channels, e.g. [28, 28, 1] or [224, 224, 3]; got {shape!r}.")
    if not _whole(c["classes"], 2):
        p.append(f"Classes must be a whole number ≥ 2; got {c['classes']!r}.")
    if p:
        return p
    n = len(blocks)
    for axis, size in (("height", shape[0]), ("width", shape[1])):
        if min(block_sizes(size, c["stem"], n)) < 1:
            p.append(f"Input {axis} {size} is too small for the {c['stem']} stem and {n} dense blocks.")
    m = c["initFeatures"]
    for b, layers in enumerate(blocks[:-1]):
        m += layers * c["growthRate"]
        out = transition_channels(m, theta)
        if out < 1:
            p.append(f"Compression θ = {theta} leaves transition {b + 1} with ⌊{theta} × {m}⌋ = {out} channels.")
        m = out
    return p


def validate_config(c: Any) -> Dict[str, Any]:
    problems = config_problems(c)
    if problems:
        head = "Invalid DenseNet config:" if len(problems) == 1 else f"Invalid DenseNet config ({len(problems)} problems):"
        raise UserError(" ".join([head, *problems]))
    return dict(c)
