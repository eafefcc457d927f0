"""Notebook 08's helpers: ground truth from data infos, the simulated detector, the small-group flag,
show_source and the two figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auxdet.analysis.xml_to_metric import (
    MIN_TARGETS,
    domain_of,
    flag_small_groups,
    ground_truth_records,
    simulated_detections,
)
from auxdet.evaluation import evaluate_detections
from auxdet.visualisation.source import show_source, source_excerpt
from auxdet.visualisation.xml_to_metric import plot_boxes, plot_precision_envelope


def _infos() -> list[dict]:
    def inst(box, ignore=0):
        return {"bbox": box, "bbox_label": 0, "ignore_flag": ignore}

    infos = []
    for i in range(12):
        platform, band = ("Air", "LWIR") if i % 2 else ("Space", "NIR")
        boxes = [inst([4.0 * k + 1, 5.0, 4.0 * k + 4, 9.0]) for k in range(3)] if i % 2 else [inst([3, 3, 6, 6], 1)]
        infos.append({"img_id": f"im{i}", "platform": platform, "band": band, "width": 64, "height": 48,
                      "instances": boxes})
    infos[0].update(true_platform="Land", true_band="LWIR")  # a counterfactual: grouped by the true domain
    return infos


def test_ground_truth_records_keep_ignored_boxes_apart_and_use_the_true_domain() -> None:
    gts = ground_truth_records(_infos())
    assert gts[0]["platform"] == "Land" and domain_of(_infos()[0]) == "Land/LWIR"
    assert gts[0]["bboxes"].shape == (0, 4) and gts[0]["bboxes_ignore"].shape == (1, 4)
    assert gts[1]["bboxes"].shape == (3, 4) and gts[1]["width"] == 64


def test_simulated_detector_has_the_recall_it_is_given() -> None:
    gts = ground_truth_records(_infos())
    recall = {"Air/LWIR": 1.0, "Space/NIR": 0.5, "Land/LWIR": 0.5}
    preds = simulated_detections(gts, recall, false_alarms_per_image=0.0, seed=3)
    table = evaluate_detections(preds, gts).set_index("key")
    assert table.loc["domain_Air_LWIR", "Recall"] == 1.0 and table.loc["domain_Air_LWIR", "AP50"] == 1.0
    noisy = simulated_detections(gts, {**recall, "Air/LWIR": 0.0}, false_alarms_per_image=2.0, seed=3)
    assert sum(len(p["bboxes"]) for p in noisy) > 0
    assert evaluate_detections(noisy, gts).set_index("key").loc["domain_Air_LWIR", "Recall"] == 0.0
    with pytest.raises(ValueError, match="domain 'Air/LWIR'"):
        simulated_detections(gts, {"Space/NIR": 1.0, "Land/LWIR": 1.0})


def test_flag_small_groups() -> None:
    table = pd.DataFrame({"num_targets": [MIN_TARGETS - 1, MIN_TARGETS, 0]})
    assert flag_small_groups(table)["few targets"].tolist() == [True, False, True]
    assert "few targets" not in table


def test_show_source_excerpt_and_errors() -> None:
    text, where, lo, hi = source_excerpt(flag_small_groups, "out = table.copy()", "return out")
    assert where == "auxdet/analysis/xml_to_metric.py" and text.startswith("out = table.copy()")
    assert text.endswith("return out") and hi - lo == 2
    md = show_source(domain_of)
    assert md.data.startswith("`auxdet/analysis/xml_to_metric.py`, lines ") and "def domain_of" in md.data
    with pytest.raises(ValueError, match="does not occur"):
        source_excerpt(domain_of, "no such line")


def test_figures() -> None:
    import matplotlib.pyplot as plt

    fig = plot_boxes(np.zeros((16, 20), np.uint8), np.array([[2, 2, 5, 6]]), "t")
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 1  # image + colour bar
    fig2 = plot_precision_envelope([0.5, 1.0], [1.0, 0.5], [0, 0.5, 1.0, 1.0], [0, 1.0, 0.5, 0], 0.75)
    assert fig2.axes[0].get_xlim() == (0.0, 100.0)
    plt.close("all")
