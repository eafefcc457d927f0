"""The shipped configs: paper settings, one config per ablation row (Tab. 2–9), each builds, trains at
CPU-tiny scale and differs from the full model by exactly the module it switches."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import pytest
import torch

pytest.importorskip("mmcv.ops", reason="mmcv with compiled ops is required (scripts/setup.sh builds it)")

from mmdet.structures import DetDataSample  # noqa: E402
from mmengine.config import Config  # noqa: E402

from auxdet.data import META_KEYS_TO_PACK  # noqa: E402
from auxdet.engine.config import (  # noqa: E402
    CONFIG_DIR,
    build_detector,
    demo_batch,
    list_configs,
    read_config,
    shrink_model_cfg,
)
from auxdet.paper_tables import paper_row  # noqa: E402

AUXDET = "auxdet_r50_fpn_1x_wideirstd"
BASELINE = "cascade_rpn_r50_fpn_1x_wideirstd"
NAMES = [p.relative_to(CONFIG_DIR).with_suffix("").as_posix() for p in list_configs()]
ABLATIONS = [n for n in NAMES if n.startswith("ablations/")]
MODULE_GROUPS = ("metadata_encoder", "compensation", "aux_fusion", "m2dm", "leem", "leem_gate")
#: configs the paper has no row for (``paper_row = None``)
NOT_IN_PAPER = {"ablations/tab9_retinanet_auxdet", "ablations/tab9_sabl_faster_rcnn_baseline",
                "ablations/tab9_sabl_faster_rcnn_auxdet"}  # fmt: skip

# The rows of each table (file stems under ablations/).
EXPECTED_ROWS = {
    "tab2": {"baseline", "meta", "meta_semantic", "meta_detail"},
    "tab3": {"baseline", "pssm", "pscm", "pssm_pscm", "pscm_pssm", "parallel"},
    "tab4": {"baseline", "conv3x3", "separable"},
    "tab5": {"baseline", "m2dm", "leem", "m2dm_leem"},
    "tab6": {"none", "platform", "resolution", "band", "platform_resolution", "platform_band",
             "resolution_band", "all"},
    "tab7": {f"{m}_depth{d}" for m in ("m2dm", "leem") for d in range(1, 5)},
    "tab8": {f"r{d}_{k}" for d in (18, 34, 50, 101) for k in ("baseline", "auxdet")},
    "tab9": {f"{d}_{k}" for d in ("faster_rcnn", "cascade_rcnn", "dynamic_rcnn", "grid_rcnn", "libra_rcnn",
                                   "sabl_retinanet", "sabl_faster_rcnn", "retinanet") for k in ("baseline", "auxdet")},
}

# Which keys of the model config an ablation row may change w.r.t. its reference, and which AuxFPN
# module groups may then differ in parameters.
SWITCHES = {
    "tab2": ({"neck.aux_mode", "neck.leem_levels"}, {"compensation", "aux_fusion", "leem"}),
    "tab3": ({"neck.m2dm_mode", "neck.leem_levels"}, {"m2dm", "leem"}),
    "tab4": ({"neck.leem_mode", "neck.m2dm_levels"}, {"leem", "metadata_encoder", "compensation", "aux_fusion",
                                                      "m2dm"}),
    "tab5": ({"neck.leem_levels", "neck.m2dm_levels"}, {"leem", "metadata_encoder", "compensation", "aux_fusion",
                                                        "m2dm"}),
    "tab6": ({"neck.metadata.fields"}, {"metadata_encoder", "aux_fusion"}),
    "tab7": ({"neck.m2dm_levels", "neck.leem_levels"}, {"compensation", "m2dm", "leem"}),
}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny models are dominated by per-op overhead: one thread is faster, and robust to a loaded CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@cache
def cfg(name: str) -> Config:
    return read_config(name)


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(node, list) and any(isinstance(v, Mapping) for v in node):
        out = {}
        for i, v in enumerate(node):
            out.update(flatten(v, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: tuple(node) if isinstance(node, list) else node}


def model_diff(a: Mapping, b: Mapping) -> set[str]:
    fa, fb = flatten(a), flatten(b)
    return {k for k in fa.keys() | fb.keys() if fa.get(k, "<absent>") != fb.get(k, "<absent>")}


def params(module: torch.nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def group_params(neck: torch.nn.Module) -> dict[str, int]:
    return {g: params(getattr(neck, g, None)) for g in MODULE_GROUPS}


def build_r50(model_cfg: Any) -> torch.nn.Module:
    """Build at full size without allocating weights (meta device): structure and parameter counts only."""
    with torch.device("meta"):
        return build_detector(model_cfg, init_weights=False)


@cache
def r50_neck(name: str) -> torch.nn.Module:
    neck = cfg(name).model.neck
    return build_r50(dict(neck[0] if isinstance(neck, list) else neck))


@cache
def r50_model_params(name: str) -> tuple[int, dict[str, int]]:
    model = build_r50(cfg(name))
    neck = model.neck[0] if isinstance(model.neck, torch.nn.Sequential) else model.neck
    return params(model), group_params(neck)


# ---------------------------------------------------------------------------------- loading, inventory


@pytest.mark.parametrize("name", NAMES)
def test_config_loads_with_auxdet_imports_and_a_paper_reference(name: str) -> None:
    c = cfg(name)
    assert c.custom_imports == dict(imports=["auxdet"], allow_failed_imports=False)
    assert c.default_scope == "mmdet"
    assert c.model.type in {"TwoStageDetector", "MetaTwoStageDetector", "MetaSingleStageDetector",
                            "FasterRCNN", "CascadeRCNN", "GridRCNN", "RetinaNet"}
    neck = c.model.neck[0] if isinstance(c.model.neck, list) else c.model.neck
    if neck.type == "AuxFPN" and (neck.m2dm_levels or neck.leem_levels):
        assert c.model.type.startswith("Meta"), "a metadata-aware neck needs a Meta detector"
    table = re.match(r"ablations/(tab\d)_", name)
    if table:  # an ablation row names its row of the paper: its table's, or Tab. 1's (same detector)
        assert c.paper_row is None if name in NOT_IN_PAPER else c.paper_row.table in {int(table.group(1)[3:]), 1}
    if c.get("paper_row") is not None:  # the named row exists; its numbers live only in auxdet.paper_tables
        assert paper_row(c.paper_row.table, c.paper_row.row)["table"] == c.paper_row.table
    n_params, _ = r50_model_params(name)  # builds at full size
    assert n_params > (1_000_000 if name.startswith("cpu_tiny/") else 10_000_000)


def test_every_ablation_row_has_its_config() -> None:
    found: dict[str, set[str]] = {}
    for n in ABLATIONS:
        table, _, row = n.removeprefix("ablations/").partition("_")
        found.setdefault(table, set()).add(row)
    assert found == EXPECTED_ROWS


# ---------------------------------------------------------------------------------- paper settings


def test_baseline_and_auxdet_follow_the_official_settings() -> None:
    base, aux = cfg(BASELINE), cfg(AUXDET)
    assert model_diff(base.model, aux.model) <= {
        "type", "neck.m2dm_levels", "neck.leem_levels", "neck.metadata.fields", "neck.metadata.vocabulary",
        "neck.metadata.sigma", "neck.aux_mode", "neck.m2dm_mode", "neck.leem_mode", "neck.aux_dim",
        "neck.embed_dim", "neck.dropout",
    }
    assert aux.model.type == "MetaTwoStageDetector" and base.model.type == "TwoStageDetector"
    assert aux.model.neck.m2dm_levels == (0, 1) and aux.model.neck.leem_levels == (0, 1)
    m = base.model
    assert m.backbone.depth == 50 and m.backbone.frozen_stages == 1 and m.backbone.norm_eval
    assert m.backbone.init_cfg == dict(type="Pretrained", checkpoint="torchvision://resnet50")
    assert m.neck.out_indices == (0, 1) and m.neck.get("start_level", 0) == 0
    s0, s1 = m.rpn_head.stages
    assert m.rpn_head.type == "CascadeRPNHead" and m.rpn_head.num_stages == 2
    assert s0.anchor_generator.strides == [4, 8] == m.roi_head.bbox_roi_extractor.featmap_strides
    assert s0.anchor_generator.scales == [8] and s0.anchor_generator.ratios == [1.0]
    assert s0.adapt_cfg == dict(type="dilation", dilation=3) and s0.bridged_feature and not s0.with_cls
    assert s1.adapt_cfg == dict(type="offset") and s1.with_cls and s1.loss_cls.use_sigmoid
    assert tuple(s0.bbox_coder.target_stds) == (0.1, 0.1, 0.5, 0.5)
    assert tuple(s1.bbox_coder.target_stds) == (0.05, 0.05, 0.1, 0.1)
    assert s0.loss_bbox.type == s1.loss_bbox.type == "IoULoss"
    assert s0.loss_bbox.loss_weight == pytest.approx(7.0) == s1.loss_bbox.loss_weight
    assert s1.loss_cls.loss_weight == pytest.approx(0.7)
    rpn0, rpn1 = m.train_cfg.rpn
    assert rpn0.assigner == dict(type="RegionAssigner", center_ratio=0.2, ignore_ratio=0.5)
    assert (rpn1.assigner.pos_iou_thr, rpn1.assigner.neg_iou_thr, rpn1.assigner.min_pos_iou) == (0.7, 0.7, 0.3)
    assert rpn1.sampler.num == 256
    for proposal in (m.train_cfg.rpn_proposal, m.test_cfg.rpn):
        assert proposal.max_per_img == 300 and proposal.nms.iou_threshold == 0.8
    head = m.roi_head.bbox_head
    assert head.num_classes == 1 and head.bbox_coder.target_stds == [0.04, 0.04, 0.08, 0.08]
    assert head.loss_cls.loss_weight == 1.5 and head.loss_bbox.type == "SmoothL1Loss"
    assert m.roi_head.bbox_roi_extractor.roi_layer.type == "RoIAlign"
    assert m.roi_head.bbox_roi_extractor.roi_layer.output_size == 7
    assert m.train_cfg.rcnn.assigner.pos_iou_thr == 0.65 and m.test_cfg.rcnn.score_thr == 1e-3


@pytest.mark.parametrize("name", [AUXDET, BASELINE, "cpu_tiny/auxdet_r18_tiny_synthetic"])
def test_data_schedule_and_metric(name: str) -> None:
    c = cfg(name)
    tiny = name.startswith("cpu_tiny")
    for loader in (c.train_dataloader, c.val_dataloader, c.test_dataloader):
        ds = loader.dataset
        assert ds.type == "VOCMetaDataset" and ds.data_prefix == dict(img="PNGImages")
        assert ds.pipeline[0].type == "LoadIRImageFromFile"
        pack = ds.pipeline[-1]
        assert pack.type == "PackDetInputs" and tuple(pack.meta_keys) == META_KEYS_TO_PACK
        resize = next(t for t in ds.pipeline if t.type == "Resize")
        assert resize.keep_ratio and tuple(resize.scale) == ((256, 256) if tiny else (1024, 1024))
    assert c.train_dataloader.batch_size == 4
    assert c.train_dataloader.dataset.ann_file == "ImageSets/Main/train.txt"
    assert any(t.type == "RandomFlip" and t.prob == 0.5 for t in c.train_dataloader.dataset.pipeline)
    assert c.val_evaluator == dict(type="AuxVOCMetric", iou_thr=0.5, eval_mode="area", by=("platform", "band"))
    assert c.train_cfg.max_epochs == 12
    opt = c.optim_wrapper.optimizer
    assert (opt.type, opt.momentum, opt.weight_decay) == ("SGD", 0.9, 1e-4)
    warmup = c.param_scheduler[0]
    assert warmup.type == "LinearLR" and not warmup.by_epoch
    if not tiny:
        assert opt.lr == 0.005 and warmup.end == 500
        assert c.train_dataloader.dataset.data_root.endswith("/")


def test_cpu_tiny_configs_are_the_shrunk_r18_ablations() -> None:
    """The CPU-tiny detectors are Tab. 8's R18 models with fewer channels — nothing else changed."""
    for tiny, ref in (("cpu_tiny/cascade_rpn_r18_tiny_synthetic", "ablations/tab8_r18_baseline"),
                      ("cpu_tiny/auxdet_r18_tiny_synthetic", "ablations/tab8_r18_auxdet")):
        shrunk = shrink_model_cfg(cfg(ref).model, channels=64, base_channels=32, fc_channels=256)
        assert model_diff(shrunk, cfg(tiny).model) == set()


# ------------------------------------------------------------- ablations switch exactly one thing


# Rows that are the full AuxDet (identical to its config).
FULL_MODEL_ROWS = {"tab5_m2dm_leem", "tab6_all", "tab7_m2dm_depth2", "tab7_leem_depth2"}


def _reference(name: str) -> str:
    stem = name.removeprefix("ablations/")
    if stem.startswith("tab9_"):
        return name.replace("_auxdet", "_baseline")
    return BASELINE if stem.endswith("_baseline") else AUXDET


@pytest.mark.parametrize("name", [n for n in ABLATIONS if not n.startswith("ablations/tab9_") or "auxdet" in n])
def test_ablation_changes_only_its_switches(name: str) -> None:
    stem = name.removeprefix("ablations/")
    table = stem[:4]
    diff = model_diff(cfg(name).model, cfg(_reference(name)).model)
    if stem in FULL_MODEL_ROWS or (stem.endswith("_baseline") and table != "tab8"):
        assert diff == set(), diff
    elif table in SWITCHES:
        assert diff and diff <= SWITCHES[table][0], diff
    elif table == "tab8":
        depth_switch = {"backbone.depth", "backbone.init_cfg.checkpoint"}
        if stem.startswith(("tab8_r18_", "tab8_r34_")):  # BasicBlock ResNets: 4× fewer output channels
            depth_switch.add("neck.in_channels")
        assert diff == (set() if stem.startswith("tab8_r50_") else depth_switch), diff
    else:  # tab9 AuxDet vs the same detector without it: only the detector type and the neck
        assert diff and all(k == "type" or k.startswith("neck.") for k in diff), diff
        neck = cfg(name).model.neck
        neck = neck[0] if isinstance(neck, list) else neck
        base_neck = cfg(_reference(name)).model.neck
        base_neck = base_neck[0] if isinstance(base_neck, list) else base_neck
        assert neck.type == "AuxFPN" and base_neck.type == "FPN"
        for key in ("in_channels", "out_channels", "num_outs", "start_level", "add_extra_convs"):
            assert neck.get(key) == base_neck.get(key)


# ------------------------------------------------------------- parameter accounting at R50 scale


@pytest.mark.parametrize("name", [n for n in ABLATIONS if n[10:14] in SWITCHES and not n.endswith("_baseline")])
def test_ablation_parameters_differ_by_the_switched_modules(name: str) -> None:
    """Neck of each Tab. 2–7 row vs the full AuxDet neck (the rest of the model is identical by config)."""
    table = name[10:14]
    full, abl = r50_neck(AUXDET), r50_neck(name)
    g_full, g_abl = group_params(full), group_params(abl)
    rest_full = params(full) - sum(g_full.values())
    rest_abl = params(abl) - sum(g_abl.values())
    assert rest_abl == rest_full  # the FPN convs themselves never change
    changed = {g for g in MODULE_GROUPS if g_full[g] != g_abl[g]}
    assert changed <= SWITCHES[table][1], changed
    neck_cfg = cfg(name).model.neck
    if not neck_cfg.leem_levels:
        assert g_abl["leem"] == 0
    if not neck_cfg.m2dm_levels:
        assert g_abl["m2dm"] == g_abl["compensation"] == g_abl["metadata_encoder"] == g_abl["aux_fusion"] == 0
    # modules are per level: a depth-d ablation holds d copies of a level's modules
    for group, levels in (("m2dm", neck_cfg.m2dm_levels), ("leem", neck_cfg.leem_levels)):
        if levels and group in changed and table == "tab7":
            per_level = g_full[group] // len(cfg(AUXDET).model.neck[f"{group}_levels"])
            assert g_abl[group] == per_level * len(levels)


def test_core_modules_add_up_as_in_tab5() -> None:
    """Tab. 5 at R50: full − M2DM-only = LEEM; full − LEEM-only = M2DM (+ its encoder); baseline = FPN."""
    total = {n: r50_model_params(n)[0] for n in (AUXDET, BASELINE)}
    groups = r50_model_params(AUXDET)[1]
    m2dm_only, leem_only = params(r50_neck("ablations/tab5_m2dm")), params(r50_neck("ablations/tab5_leem"))
    full_neck = params(r50_neck(AUXDET))
    assert full_neck - m2dm_only == groups["leem"]
    assert full_neck - leem_only == (groups["m2dm"] + groups["compensation"] + groups["metadata_encoder"]
                                     + groups["aux_fusion"])
    assert total[AUXDET] - total[BASELINE] == sum(groups.values())
    assert groups["leem"] > 0 and groups["m2dm"] > groups["leem"]


@pytest.mark.parametrize("name", [n for n in ABLATIONS if n.startswith(("ablations/tab8_", "ablations/tab9_"))
                                  and n.endswith("_auxdet")])
def test_auxdet_adds_the_same_modules_to_every_backbone_and_detector(name: str) -> None:
    """Tab. 8/9: (AuxDet − baseline) of any backbone / detector = the AuxFPN modules it builds."""
    base = name.replace("_auxdet", "_baseline")
    n_aux, groups = r50_model_params(name)
    n_base, _ = r50_model_params(base)
    assert n_aux - n_base == sum(groups.values()) > 0
    assert groups == r50_model_params(AUXDET)[1]  # the modules act on 256-channel laterals everywhere


# ------------------------------------------------------------------- CPU-tiny: every row trains

TINY = dict(channels=32, base_channels=16, fc_channels=128)
# Rows whose switches change more than the neck: one full training step of the tiny detector each.
# (Tab. 8 / 9 baselines are mmdet's own detectors; their AuxDet rows contain all their parts.)
DETECTOR_ROWS = [AUXDET, BASELINE] + [
    n for n in ABLATIONS if n.endswith("_auxdet") and (n.startswith("ablations/tab9_") or "r50" not in n)
]
# Rows that only switch AuxFPN arguments (Tab. 2–7): one training step of the tiny neck each.
NECK_ROWS = sorted({repr(dict(cfg(n).model.neck)): n for n in ABLATIONS if n[10:14] in SWITCHES}.values())
DEMO_METAS = [dict(platform="Air", band="LWIR", width=256, height=256),
              dict(platform="Space", band="NIR", width=640, height=512)]


@pytest.mark.parametrize("name", DETECTOR_ROWS)
def test_tiny_detector_of_the_row_trains_one_step(name: str) -> None:
    model = build_detector(shrink_model_cfg(cfg(name).model, **TINY), init_weights=False)
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=1e-3)
    inputs, samples = demo_batch(model, [(64, 64), (64, 64)], DEMO_METAS, training=True)
    losses = model(inputs, samples, mode="loss")
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss), losses
    optim.zero_grad()
    loss.backward()
    optim.step()
    neck = model.neck[0] if isinstance(model.neck, torch.nn.Sequential) else model.neck
    for group, n in group_params(neck).items():
        if n:  # every AuxDet module of the row is in the graph of the detection loss
            grads = [p.grad for p in getattr(neck, group).parameters()]
            assert any(g is not None and bool(g.abs().sum() > 0) for g in grads), group


@pytest.mark.parametrize("name", NECK_ROWS)
def test_tiny_neck_of_the_row_trains_one_step(name: str) -> None:
    """Tab. 2–7 switch only AuxFPN arguments (checked above): train the row's tiny neck for one step."""
    neck_cfg = shrink_model_cfg(cfg(name).model, **TINY).neck
    neck = build_detector(dict(neck_cfg))
    neck.train()
    feats = [torch.randn(2, c, 16 // 2**i, 16 // 2**i) for i, c in enumerate(neck_cfg.in_channels)]
    samples = [DetDataSample(metainfo=m) for m in DEMO_METAS]
    outs = neck(feats, data_samples=samples)
    assert len(outs) == 2 and outs[0].shape == (2, TINY["channels"], 16, 16)
    loss = sum((o**2).mean() for o in outs)
    assert torch.isfinite(loss)
    loss.backward()
    for group, n in group_params(neck).items():
        if n:
            assert any(p.grad is not None and bool(p.grad.abs().sum() > 0)
                       for p in getattr(neck, group).parameters()), group
    torch.optim.SGD(neck.parameters(), lr=1e-3).step()
