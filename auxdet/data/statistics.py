"""WideIRSTD-Full's metadata table ``statistics.txt`` — the one reader of that file.

Format: one image per line, tab-separated (any whitespace accepted), no header (a header line
starting with ``id`` is skipped)::

    id  platform  band  width  height  target_area

``width`` comes before ``height`` (SIRST-V2's 78 images of 640 wide × 512 high match the 78 Land rows
``640 512``); ``target_area`` is the image's total target pixel area (0 = no target pixels).

The shipped table has 8851 rows (ids 00001–08851) while ``train.txt``/``test.txt`` list 9000 ids:
:func:`match_split` decides what happens to split ids without a row (``missing='warn'|'skip'|'error'``).
Split files themselves are read by :func:`auxdet.data.voc_io.read_split`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from auxdet.data.voc_io import VOCFormatError
from auxdet.metadata import MetadataError, Vocabulary

__all__ = ["MISSING_POLICIES", "STATISTICS_COLUMNS", "match_split", "read_statistics"]

#: Columns of ``statistics.txt`` in file order (also those of the synthetic metadata table).
STATISTICS_COLUMNS: tuple[str, ...] = ("id", "platform", "band", "width", "height", "target_area")
MissingPolicy = Literal["warn", "skip", "error"]
MISSING_POLICIES: tuple[str, ...] = ("warn", "skip", "error")
_HEADER_WORDS = {"id", "image", "img_id", "image_id", "name"}


def read_statistics(
    path: str | os.PathLike, vocab: Vocabulary | Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Read and validate ``statistics.txt`` into a typed DataFrame.

    Columns: ``id`` (string, as written, e.g. ``'00001'``), ``platform`` / ``band`` (categoricals over
    the vocabulary's canonical spelling: ``' lwir'`` reads as ``'LWIR'``), ``width``, ``height`` (int64
    > 0), ``target_area`` (int64 ≥ 0), ``line`` (1-based line number in the file). A bad row raises
    :class:`~auxdet.metadata.MetadataError` (platform/band/size, naming the valid values) or
    :class:`~auxdet.data.voc_io.VOCFormatError` (field count, target area, duplicate id), both naming
    the file, the line, the id, the field and the value.
    """
    path = Path(path)
    vocab = Vocabulary.from_config(vocab)
    if not path.is_file():
        raise FileNotFoundError(f"statistics file not found: '{path}'")
    rows: list[tuple] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        fields = raw.strip("\r\n").split("\t")
        if len(fields) != len(STATISTICS_COLUMNS):
            fields = raw.split()
        where = f"statistics file '{path}', line {n}"
        if len(fields) != len(STATISTICS_COLUMNS):
            raise VOCFormatError(
                f"{where}: expected {len(STATISTICS_COLUMNS)} tab-separated fields {list(STATISTICS_COLUMNS)}, "
                f"got {len(fields)}: {raw!r}"
            )
        fields = [f.strip() for f in fields]
        if not rows and fields[0].lower() in _HEADER_WORDS and not fields[3].isdigit():
            continue  # header line
        img_id = fields[0]
        if not img_id:
            raise VOCFormatError(f"{where}: field 'id' is empty")
        if img_id in seen:
            raise VOCFormatError(f"{where}: field 'id' value {img_id!r} duplicates line {seen[img_id]}")
        seen[img_id] = n
        try:
            meta = vocab.parse(*fields[1:5])
        except MetadataError as e:
            raise MetadataError(f"{where} (id {img_id!r}): {e}") from None
        area = fields[5]
        if not area.isdigit():
            raise VOCFormatError(
                f"{where} (id {img_id!r}): field 'target_area' must be a non-negative integer, got {area!r}"
            )
        rows.append((img_id, meta.platform, meta.band, meta.width, meta.height, int(area), n))
    if not rows:
        raise VOCFormatError(f"statistics file '{path}' has no rows")
    df = pd.DataFrame(rows, columns=[*STATISTICS_COLUMNS, "line"])
    for col in ("platform", "band"):
        values = list(vocab.values(col)) + (["unknown"] if vocab.allow_unknown else [])
        df[col] = pd.Categorical(df[col], categories=values)
    df["id"] = df["id"].astype("string")
    return df.astype({"width": "int64", "height": "int64", "target_area": "int64", "line": "int64"})


def match_split(
    stats: pd.DataFrame, ids: Iterable[str], missing: MissingPolicy = "error", source: str = "split"
) -> tuple[pd.DataFrame, list[str]]:
    """Rows of ``stats`` for ``ids`` (in split order) and the ids without a row.

    ``missing``: ``'error'`` raises :class:`MetadataError` listing the missing ids; ``'warn'`` warns;
    ``'skip'`` returns them silently.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing_metadata must be one of {list(MISSING_POLICIES)}, got {missing!r}")
    ids = [str(i) for i in ids]
    indexed = stats.set_index("id", drop=False)
    known = set(indexed.index)
    absent = [i for i in ids if i not in known]
    if absent:
        msg = (
            f"{len(absent)} of {len(ids)} ids in {source} have no metadata row in statistics, "
            f"e.g. {absent[:10]}"
        )
        if missing == "error":
            raise MetadataError(msg + " (set missing_metadata='warn' or 'skip' to drop them)")
        if missing == "warn":
            warnings.warn(msg + "; they are dropped", stacklevel=2)
    matched = indexed.loc[[i for i in ids if i in known]].reset_index(drop=True)
    return matched, absent
