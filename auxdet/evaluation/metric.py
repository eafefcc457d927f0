"""The mmengine metric of auxdet: the paper's AP50/Recall per metadata domain, and IRSTD Pd/Fa.

The top layer of :mod:`auxdet.evaluation`: it converts mmdet data samples to records
(:mod:`.records`) and reports :func:`~auxdet.evaluation.voc.evaluate_records` and
:func:`~auxdet.evaluation.irstd.pd_fa_records` as a flat dict for mmengine's logger. Its keys are
``AP50``, ``Recall`` and ``AP50/platform_Air``, ``Recall/band_LWIR``, ``AP50/domain_Air_LWIR`` …; the
evaluator prefixes them with ``auxvoc/``, so select the best checkpoint with
``save_best='auxvoc/AP50'`` (``rule='greater'``). The full tables stay in ``metric.last_table``.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric

from auxdet.evaluation.irstd import pd_fa_records
from auxdet.evaluation.records import DEFAULT_BY, OVERALL, EvaluationError, make_image_eval, sample_to_records
from auxdet.evaluation.voc import check_params, evaluate_records, table_to_metrics
from auxdet.fileio import atomic_write_bytes, atomic_write_csv

__all__ = ["AuxVOCMetric"]


@METRICS.register_module()
class AuxVOCMetric(BaseMetric):
    """The paper's AP50/Recall (mmdet ``eval_map``, VOC area mode) overall and per metadata domain.

    Reads ``platform``/``band`` (and ``width``/``height``, fallback ``ori_shape``) from each data
    sample's metainfo, ``gt_instances``/``ignored_instances`` and ``pred_instances`` as mmdet's
    ``VOCMetric.process`` does. Ground-truth boxes must be in original-image pixels (load
    annotations after ``Resize`` in the test pipeline, as mmdet's VOC configs do).

    Returned keys (before the evaluator's ``auxvoc/`` prefix): ``AP50``, ``Recall``, per group
    ``AP50/platform_Air``, ``Recall/band_NIR``, ``AP50/domain_Space_SWIR`` …, and when
    ``pd_fa_score_thr`` is not None the IRSTD target-level ``Pd`` and ``Fa_per_MP`` (overall).
    Best checkpoint: ``default_hooks.checkpoint.save_best='auxvoc/AP50'``.

    After evaluation ``last_table`` (AP/Recall per group) and ``last_pd_fa_table`` hold the
    DataFrames; :meth:`save_tables` writes them as CSV. ``records_file``: also save the per-image
    :class:`~auxdet.evaluation.records.ImageEval` records there (a pickle, for
    :mod:`auxdet.evaluation.bootstrap`).
    """

    default_prefix: str | None = "auxvoc"

    def __init__(
        self,
        iou_thr: float = 0.5,
        eval_mode: str = "area",
        by: Sequence[str] = DEFAULT_BY,
        cross: bool = True,
        use_legacy_coordinate: bool = True,
        pd_fa_score_thr: float | None = 0.5,
        pd_fa_criterion: str = "centroid",
        pd_fa_distance_thr: float = 3.0,
        nproc: int = 1,
        records_file: str | None = None,
        collect_device: str = "cpu",
        prefix: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        check_params(iou_thr, eval_mode)
        self.iou_thr = float(iou_thr)
        self.eval_mode = eval_mode
        self.by = tuple(by)
        self.cross = cross
        self.use_legacy_coordinate = use_legacy_coordinate
        self.pd_fa_score_thr = pd_fa_score_thr
        self.pd_fa_criterion = pd_fa_criterion
        self.pd_fa_distance_thr = pd_fa_distance_thr
        self.nproc = nproc
        self.records_file = records_file
        self.last_table: pd.DataFrame | None = None
        self.last_pd_fa_table: pd.DataFrame | None = None

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store one :class:`ImageEval` per data sample (numpy, CPU)."""
        for sample in data_samples:
            pred, gt = sample_to_records(sample)
            self.results.append(make_image_eval(pred, gt, len(self.results)))

    def compute_metrics(self, results: list) -> dict[str, float]:
        """AP50/Recall (and Pd/Fa) overall and per group; keeps the tables in ``last_*_table``."""
        classes = (self.dataset_meta or {}).get("classes")
        table = evaluate_records(
            results,
            self.iou_thr,
            eval_mode=self.eval_mode,
            by=self.by,
            cross=self.cross,
            use_legacy_coordinate=self.use_legacy_coordinate,
            num_classes=len(classes) if classes else None,
            nproc=self.nproc,
            progress=False,
        )
        self.last_table = table
        if self.records_file:
            atomic_write_bytes(self.records_file, pickle.dumps(list(results), protocol=pickle.HIGHEST_PROTOCOL))
        metrics = table_to_metrics(table)
        if self.pd_fa_score_thr is not None:
            pd_fa_table = pd_fa_records(
                results,
                self.pd_fa_score_thr,
                criterion=self.pd_fa_criterion,
                distance_thr=self.pd_fa_distance_thr,
                by=self.by,
                cross=self.cross,
            )
            self.last_pd_fa_table = pd_fa_table
            overall = pd_fa_table[pd_fa_table["group"] == OVERALL].iloc[0]
            metrics["Pd"] = float(overall["Pd"])
            metrics["Fa_per_MP"] = float(overall["Fa_per_MP"])
        return metrics

    def save_tables(self, directory: str | Path, stem: str = "eval") -> list[Path]:
        """Write ``<stem>_ap.csv`` (and ``<stem>_pd_fa.csv``) of the last evaluation; return the paths."""
        if self.last_table is None:
            raise EvaluationError("AuxVOCMetric.save_tables: no evaluation has run yet")
        paths = [atomic_write_csv(Path(directory) / f"{stem}_ap.csv", self.last_table)]
        if self.last_pd_fa_table is not None:
            paths.append(atomic_write_csv(Path(directory) / f"{stem}_pd_fa.csv", self.last_pd_fa_table))
        return paths
