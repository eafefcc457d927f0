"""The per-image metadata table of WideIRSTD-Full with its split assignment, or its synthetic stand-in.

Real table: ``statistics.txt`` (read by :func:`auxdet.data.statistics.read_statistics`) with the split
files ``train.txt`` (7000 ids) and ``test.txt`` (2000 ids; the paper's validation set), read by
:func:`auxdet.data.voc_io.read_split`.

When the real table is absent, :func:`load_metadata_table` falls back to the synthetic generator
(``auxdet.data.synthetic.synthetic_metadata_table``) and labels the result ``source='synthetic'``:
every analysis function works on either and callers must show which source they used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from auxdet import paths
from auxdet.data.statistics import read_statistics
from auxdet.data.voc_io import read_split
from auxdet.metadata import MetadataError

__all__ = [
    "COLUMNS",
    "SYNTHETIC_FUNCTION",
    "MetadataTable",
    "SyntheticUnavailable",
    "load_metadata_table",
    "split_coverage",
]

COLUMNS: tuple[str, ...] = ("id", "platform", "band", "width", "height", "target_area", "split")
#: The synthetic stand-in for the real table: a function ``(num_images, seed) -> DataFrame`` with
#: :data:`COLUMNS` (``split`` optional).
SYNTHETIC_FUNCTION = "auxdet.data.synthetic:synthetic_metadata_table"


@dataclass
class MetadataTable:
    """The per-image metadata table and where it came from.

    ``table`` has :data:`COLUMNS` (``split`` ∈ {'train', 'test', 'none'}); ``source`` is ``'real'`` or
    ``'synthetic'``; ``origin`` the folder or function it came from; ``split_sizes`` the number of ids
    in each split file; ``missing`` the split ids that have no row in the statistics file.
    """

    table: pd.DataFrame
    source: str
    origin: str
    split_sizes: dict[str, int] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)

    def split(self, name: str) -> pd.DataFrame:
        """Rows of one split ('train' / 'test'); raises ValueError naming the valid splits."""
        valid = sorted(set(self.table["split"]))
        if name not in valid:
            raise ValueError(f"unknown split {name!r} in the {self.source} table; valid: {valid}")
        return self.table[self.table["split"] == name]

    def describe(self) -> str:
        """One line per fact: source, rows, split coverage."""
        lines = [f"source: {self.source} ({self.origin}); {len(self.table)} images"]
        for name, n in self.split_sizes.items():
            miss = len(self.missing.get(name, []))
            lines.append(f"  {name}: {n} ids in the split file, {n - miss} in the table, {miss} missing")
        if not self.split_sizes:
            for name, n in self.table["split"].value_counts().items():
                lines.append(f"  {name}: {n} images (no split files: every id is in the table)")
        return "\n".join(lines)


class SyntheticUnavailable(FileNotFoundError):
    """The synthetic stand-in (``auxdet.data.synthetic``) needed for a fallback does not exist (yet)."""


def _synthetic_function(spec: str, why: str) -> Any:
    """The function named by ``'module:function'``; :class:`SyntheticUnavailable` (saying ``why``) if absent."""
    module_name, func_name = spec.split(":")
    try:
        return getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as e:
        raise SyntheticUnavailable(f"{why}, and {spec} is not available ({type(e).__name__}: {e})") from None


def _load_synthetic(n: int | None, seed: int) -> pd.DataFrame:
    func = _synthetic_function(SYNTHETIC_FUNCTION, "the real metadata table is missing")
    df = func(**({} if n is None else {"num_images": n}), seed=seed)
    missing = [c for c in COLUMNS if c not in df.columns and c != "split"]
    if missing:
        raise ValueError(f"{SYNTHETIC_FUNCTION} returned a table without columns {missing}; need {list(COLUMNS)}")
    df = df.copy()
    if "split" not in df.columns:
        df["split"] = "train"
    return df[list(COLUMNS)].reset_index(drop=True)


def load_metadata_table(
    path: str | Path | None = None,
    *,
    synthetic_fallback: bool = True,
    synthetic_size: int | None = None,
    seed: int = 0,
) -> MetadataTable:
    """Load the WideIRSTD metadata table from ``path`` (default :func:`auxdet.paths.wideirstd_metadata_dir`).

    ``path`` is the folder holding ``statistics.txt`` (+ ``train.txt`` / ``test.txt``) or the statistics
    file itself. If it does not exist and ``synthetic_fallback`` is true, the synthetic table is
    returned instead (``source='synthetic'``); otherwise FileNotFoundError. Platform and band are
    plain strings (canonical spelling) in the returned table.
    """
    path = Path(path) if path is not None else paths.wideirstd_metadata_dir()
    stats = path if path.is_file() else path / "statistics.txt"
    if not stats.is_file():
        if not synthetic_fallback:
            raise FileNotFoundError(f"metadata statistics file not found: '{stats}'")
        return MetadataTable(_load_synthetic(synthetic_size, seed), "synthetic", SYNTHETIC_FUNCTION)
    df = read_statistics(stats).astype({"id": str, "platform": str, "band": str})
    df["split"] = "none"
    sizes: dict[str, int] = {}
    missing: dict[str, list[str]] = {}
    known = set(df.id)
    for name in ("train", "test"):
        split_file = stats.parent / f"{name}.txt"
        if not split_file.is_file():
            continue
        ids = read_split(split_file)
        sizes[name] = len(ids)
        missing[name] = sorted(set(ids) - known)
        taken = df.id.isin(ids) & (df["split"] != "none")
        if taken.any():
            raise MetadataError(f"'{split_file}': ids also in another split: {df.id[taken].tolist()[:5]}")
        df.loc[df.id.isin(ids), "split"] = name
    return MetadataTable(df[list(COLUMNS)], "real", str(stats.parent), sizes, missing)


def split_coverage(meta: MetadataTable) -> pd.DataFrame:
    """Per split: ids in the split file, ids found in the table, ids missing (and the first/last missing id)."""
    rows = []
    for name, n in meta.split_sizes.items():
        miss = meta.missing.get(name, [])
        rows.append(dict(split=name, ids=n, in_table=n - len(miss), missing=len(miss),
                         first_missing=miss[0] if miss else None, last_missing=miss[-1] if miss else None))  # fmt: skip
    return pd.DataFrame(rows, columns=["split", "ids", "in_table", "missing", "first_missing", "last_missing"])
