"""The run's dataset cache and the batches drawn from it, as the TF.js engine draws them.

The host decodes and resizes a dataset once, with sharp, into `<run>/dataset/` (written by
main/engine/pytorch/dataset-cache.ts; docs/run-format.md describes it): `pixels.u8` holds every
sample as H×W×C uint8, train split first, then validation, then test, each in split order;
`labels.i32` holds their class indices; `index.json` says where each split starts. This module
memory-maps the pixels, so a dataset larger than memory streams from the page cache, and both
engines see identical pixels.

Batches follow main/engine/data/batches.ts exactly: per epoch ONE 32-bit draw from the run's data
RNG (the epoch seed); the order is a Fisher–Yates shuffle seeded by derive_seed(epoch seed, 0),
and batch b's pad-crop/flip draws come from derive_seed(epoch seed, 1, b), per sample the crop
offsets (oy, then ox) and then the flip. Pixels become v/255 in float32, then (x − mean)·(1/std)
per channel, computed in float64 and rounded once, as JavaScript computes it.
"""
import json
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

import numpy as np

from .errors import UserError
from .rng import Rng, SeedPurpose, derive_seed, shuffle_in_place, stream_seed

CACHE_DIR = "dataset"
INDEX_FILE = "index.json"
CACHE_FORMAT = 1
#: Below this std a channel is only centred (main/engine/data/normalize.ts MIN_STD).
MIN_STD = 1e-6
#: byte → float32(byte / 255), the TS engine's lookup table.
TO_UNIT = (np.arange(256, dtype=np.float64) / 255.0).astype(np.float32)


@dataclass
class Split:
    name: str
    offset: int
    count: int
    labels: np.ndarray  # int64, one per sample


class DatasetCache:
    """The memory-mapped cache of one run. Safe to pickle into DataLoader workers: the map is
    reopened lazily in each process."""

    def __init__(self, run_dir: str):
        self.dir = os.path.join(run_dir, CACHE_DIR)
        index_file = os.path.join(self.dir, INDEX_FILE)
        try:
            with open(index_file, encoding="utf-8") as f:
                index = json.load(f)
        except FileNotFoundError:
            raise UserError(
                f"Run folder {run_dir} has no dataset cache ({CACHE_DIR}/{INDEX_FILE}); the PyTorch engine trains a prepared "
                "run: create it with `densenet-workbench train --backend pytorch --prepare-only`.") from None
        except (OSError, ValueError) as err:
            raise UserError(f"The dataset cache index {index_file} cannot be read ({err}).") from None
        if index.get("format") != CACHE_FORMAT:
            raise UserError(f"The dataset cache {index_file} has format {index.get('format')!r}; this engine reads format {CACHE_FORMAT}.")
        self.index = index
        self.shape = tuple(int(v) for v in index["inputShape"])
        self.classes: List[str] = list(index["classes"])
        self.sample_bytes = self.shape[0] * self.shape[1] * self.shape[2]
        self.total = int(index["samples"])
        pixels = os.path.join(self.dir, index["pixels"])
        size = os.path.getsize(pixels) if os.path.exists(pixels) else -1
        if size != self.total * self.sample_bytes:
            raise UserError(f"The dataset cache {pixels} has {size} bytes; its index needs {self.total} samples of {self.sample_bytes} bytes. "
                            "Prepare the run again.")
        self._pixels_path = pixels
        labels = np.fromfile(os.path.join(self.dir, index["labels"]), dtype="<i4")
        if labels.shape[0] != self.total:
            raise UserError(f"The dataset cache's labels hold {labels.shape[0]} entries for {self.total} samples. Prepare the run again.")
        self.splits: Dict[str, Optional[Split]] = {}
        for name in ("train", "val", "test"):
            s = index["splits"].get(name)
            if s is None:
                self.splits[name] = None
                continue
            off, n = int(s["offset"]), int(s["count"])
            if off < 0 or n < 0 or off + n > self.total:
                raise UserError(f"The dataset cache's {name} split [{off}, {off + n}) is outside its {self.total} samples.")
            self.splits[name] = Split(name, off, n, labels[off:off + n].astype(np.int64))
        self._map: Optional[np.memmap] = None

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_map"] = None
        return state

    def pixels(self) -> np.memmap:
        if self._map is None:
            self._map = np.memmap(self._pixels_path, dtype=np.uint8, mode="r", shape=(self.total, *self.shape))
        return self._map

    def split(self, name: str) -> Split:
        s = self.splits.get(name)
        if s is None:
            raise UserError(f"The dataset cache has no {name} split.")
        return s

    def read_bytes(self, split: Split, positions: Sequence[int]) -> np.ndarray:
        """Samples at `positions` of `split` as an N×H×W×C uint8 array (a copy)."""
        idx = np.asarray(positions, dtype=np.int64) + split.offset
        return np.asarray(self.pixels()[idx])


@dataclass(frozen=True)
class Augment:
    pad_crop: bool
    flip: bool
    pad: int = 4


def augment_draws(n: int, rng: Rng, aug: Augment) -> List[tuple]:
    """Per sample (oy, ox, flipped), drawn in the TS order: crop offsets, then the flip."""
    crop = aug.pad_crop and aug.pad > 0
    out = []
    for _ in range(n):
        oy = ox = aug.pad
        if crop:
            oy = rng.int(2 * aug.pad + 1)
            ox = rng.int(2 * aug.pad + 1)
        flipped = aug.flip and rng.next() < 0.5
        out.append((oy, ox, flipped))
    return out


def apply_augment(x: np.ndarray, draws: Sequence[tuple], pad: int) -> np.ndarray:
    """Pad-crop and flip a uint8 N×H×W×C batch (zero padding: black, as the paper's recipe)."""
    n, h, w, _ = x.shape
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    out = np.empty_like(x)
    for s, (oy, ox, flipped) in enumerate(draws):
        crop = padded[s, oy:oy + h, ox:ox + w]
        out[s] = crop[:, ::-1] if flipped else crop
    return out


def to_float(x: np.ndarray, normalization: Optional[Mapping[str, Sequence[float]]]) -> np.ndarray:
    """uint8 → float32 in [0, 1] → per-channel normalization, rounding as the TS engine does."""
    f = TO_UNIT[x]
    if normalization is None:
        return f
    mean = np.asarray(normalization["mean"], dtype=np.float32).astype(np.float64)
    inv = np.asarray([1.0 if s < MIN_STD else 1.0 / s for s in normalization["std"]], dtype=np.float32).astype(np.float64)
    return ((f.astype(np.float64) - mean) * inv).astype(np.float32)


def batch_count(size: int, batch_size: int, drop_last: bool = False) -> int:
    return size // batch_size if drop_last else -(-size // batch_size)


@dataclass
class Batch:
    x: np.ndarray  # N×H×W×C float32, augmented and normalized
    y: np.ndarray  # N int64
    n: int
    index: int


class EpochPlan:
    """One epoch's order and augmentation, a pure function of the epoch seed: batches can be
    produced in any order and in any process (DataLoader workers, DDP ranks) with the same result."""

    def __init__(self, cache: DatasetCache, split: Split, batch_size: int, epoch_seed: int, shuffle: bool,
                 augment: Optional[Augment], normalization, drop_last: bool = False):
        self.cache, self.split, self.batch_size = cache, split, batch_size
        self.epoch_seed, self.augment, self.normalization = epoch_seed, augment, normalization
        order = list(range(split.count))
        if shuffle:
            shuffle_in_place(order, Rng(derive_seed(epoch_seed, 0)))
        self.order = order
        self.count = batch_count(split.count, batch_size, drop_last)

    def positions(self, b: int) -> List[int]:
        return self.order[b * self.batch_size:min((b + 1) * self.batch_size, self.split.count)]

    def batch(self, b: int, part: Optional[slice] = None) -> Batch:
        """Batch b, or the slice `part` of it (a DDP rank's share, with the draws of the whole batch)."""
        pos = self.positions(b)
        draws = augment_draws(len(pos), Rng(derive_seed(self.epoch_seed, 1, b)), self.augment) if self.augment else None
        if part is not None:
            pos = pos[part]
            draws = draws[part] if draws is not None else None
        x = self.cache.read_bytes(self.split, pos)
        if draws is not None:
            x = apply_augment(x, draws, self.augment.pad)
        y = self.split.labels[np.asarray(pos, dtype=np.int64)] if pos else np.zeros(0, dtype=np.int64)
        return Batch(to_float(x, self.normalization), y, len(pos), b)


class TrainData:
    """What the loop needs: steps per epoch, the data RNG and its state, train and val batches
    (main/engine/train/dataset-source.ts, ported)."""

    def __init__(self, cache: DatasetCache, settings: Mapping[str, Any], normalization):
        train = cache.split("train")
        if train.count == 0:
            raise UserError("The dataset has no training samples.")
        self.cache, self.settings, self.normalization = cache, settings, normalization
        self.train, self.val = train, cache.splits.get("val")
        self.classes = len(cache.classes)
        b = settings["batchSize"]
        # A last batch of one sample gives batch norm a zero variance; leave such a batch out.
        self.drop_last = train.count > b and train.count % b == 1
        self.steps_per_epoch = batch_count(train.count, b, self.drop_last)
        self.rng = Rng(stream_seed(settings["seed"], SeedPurpose.DATA))
        aug = settings.get("augment", {"padCrop": True, "flip": True})
        self.augment = Augment(bool(aug["padCrop"]), bool(aug["flip"])) if (aug["padCrop"] or aug["flip"]) else None

    def rng_state(self) -> List[int]:
        return self.rng.get_state()

    def set_rng_state(self, state) -> None:
        self.rng.set_state(state)

    def epoch_plan(self) -> EpochPlan:
        """Draws this epoch's seed (the one draw per epoch) and returns its plan."""
        return EpochPlan(self.cache, self.train, self.settings["batchSize"], self.rng.next_uint32(), True,
                         self.augment, self.normalization, self.drop_last)

    def val_plan(self, batch_size: Optional[int] = None) -> Optional[EpochPlan]:
        if self.val is None or self.val.count == 0:
            return None
        return EpochPlan(self.cache, self.val, batch_size or self.settings["batchSize"], 0, False, None, self.normalization)


def iterate(plan: EpochPlan, start: int = 0) -> Iterator[Batch]:
    for b in range(start, plan.count):
        yield plan.batch(b)
