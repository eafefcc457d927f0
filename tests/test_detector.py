"""Metadata-aware detectors (auxdet.models.detector) and the proof that the mmdet stack works on the CPU."""

from __future__ import annotations

import math

import pytest
import torch

pytest.importorskip("mmcv.ops", reason="mmcv with compiled ops is required (scripts/setup.sh builds it)")

from mmdet.models.detectors import SingleStageDetector, TwoStageDetector  # noqa: E402
from mmdet.models.necks import FPN  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.structures import DetDataSample  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402

from auxdet.engine.config import (  # noqa: E402
    build_detector,
    config_path,
    demo_batch,
    list_configs,
    read_config,
    shrink_model_cfg,
)
from auxdet.metadata import MetadataError  # noqa: E402
from auxdet.models.detector import (  # noqa: E402
    MetaSingleStageDetector,
    MetaTwoStageDetector,
    forward_neck,
    neck_needs_data_samples,
)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny models are dominated by per-op overhead: one thread is faster, and robust to a loaded CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@MODELS.register_module(force=True)
class _RecordingNeck(FPN):
    """Stand-in metadata-aware neck: an mmdet FPN that records the data samples of every call."""

    needs_data_samples = True

    def __init__(self, *args, out_indices=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.out_indices = out_indices
        self.calls: list = []

    def forward(self, inputs, data_samples=None):
        self.calls.append(data_samples)
        outs = super().forward(inputs)
        return outs if self.out_indices is None else tuple(outs[i] for i in self.out_indices)


TINY_BASELINE = "cpu_tiny/cascade_rpn_r18_tiny_synthetic"
TINY_AUXDET = "cpu_tiny/auxdet_r18_tiny_synthetic"
SIZE = [(64, 64), (64, 96)]


def _tiny_model(config: str, **model_overrides):
    cfg = read_config(config)
    model_cfg = cfg.model
    model_cfg.update(model_overrides)
    return build_detector(model_cfg)


def _recording_cascade(detector_type: str = "MetaTwoStageDetector"):
    cfg = read_config(TINY_BASELINE).model
    cfg.type = detector_type
    cfg.neck = dict(type="_RecordingNeck", in_channels=[32, 64, 128, 256], out_channels=64, num_outs=4,
                    out_indices=(0, 1))
    return build_detector(cfg)


_SMALL = dict(channels=32, base_channels=16, fc_channels=128)


def _recording_retinanet():
    cfg = shrink_model_cfg(read_config("ablations/tab9_retinanet_baseline").model, **_SMALL)
    cfg.type = "MetaSingleStageDetector"
    cfg.neck.type = "_RecordingNeck"
    return build_detector(cfg)


# ------------------------------------------------------------------------------------------ the mixin


@pytest.mark.parametrize("mode", ["loss", "predict", "tensor"])
def test_two_stage_neck_receives_the_call_samples(mode: str) -> None:
    model = _recording_cascade()
    model.train(mode == "loss")
    inputs, samples = demo_batch(model, SIZE, training=mode == "loss")
    with torch.set_grad_enabled(mode == "loss"):
        model(inputs, samples, mode=mode)
    assert len(model.neck.calls) == 1
    assert model.neck.calls[0] is samples  # the very list of this call, not a copy
    assert model._scoped_data_samples is None  # the scope is closed after the call


@pytest.mark.parametrize("mode", ["loss", "predict", "tensor"])
def test_single_stage_neck_receives_the_call_samples(mode: str) -> None:
    model = _recording_retinanet()
    assert isinstance(model, SingleStageDetector) and isinstance(model, MetaSingleStageDetector)
    model.train(mode == "loss")
    inputs, samples = demo_batch(model, SIZE, training=mode == "loss")
    with torch.set_grad_enabled(mode == "loss"):
        out = model(inputs, samples, mode=mode)
    assert model.neck.calls == [samples] and model.neck.calls[0] is samples
    if mode == "loss":
        assert all(torch.isfinite(v).all() for v in _flat_losses(out))


def test_tensor_mode_without_samples_is_a_clear_error() -> None:
    for model in (_recording_cascade(), _recording_retinanet()):
        model.eval()
        inputs, _ = demo_batch(model, SIZE[:1], training=False)
        with pytest.raises(MetadataError, match="no data samples.*mode="):
            model(inputs)  # tensor mode, data_samples=None
        assert model._scoped_data_samples is None


def test_scope_is_restored_after_an_exception_and_explicit_samples_win() -> None:
    model = _recording_cascade()
    model.eval()
    inputs, samples = demo_batch(model, SIZE, training=False)
    with pytest.raises(ValueError, match="2 data samples for a batch of 1"):
        model.predict(inputs[:1], samples)
    assert model._scoped_data_samples is None
    other = [DetDataSample(metainfo=s.metainfo) for s in samples]
    with model.data_samples_in_scope(samples):
        model.extract_feat(inputs, other)
    assert model.neck.calls[-1] is other


def test_neck_list_passes_samples_to_the_member_that_needs_them() -> None:
    """Libra R-CNN's neck is the list [FPN, BFP] (an nn.Sequential)."""
    cfg = shrink_model_cfg(read_config("ablations/tab9_libra_rcnn_auxdet").model)
    cfg.neck[0] = dict(type="_RecordingNeck", in_channels=cfg.neck[0]["in_channels"], out_channels=64, num_outs=5)
    model = build_detector(cfg)
    assert isinstance(model.neck, torch.nn.Sequential) and neck_needs_data_samples(model.neck)
    inputs, samples = demo_batch(model, SIZE, training=True)
    losses = model(inputs, samples, mode="loss")
    assert model.neck[0].calls == [samples]
    assert all(torch.isfinite(v).all() for v in _flat_losses(losses))


def test_forward_neck_calls_plain_necks_unchanged() -> None:
    neck = FPN([8, 16], 8, 2)
    feats = (torch.randn(1, 8, 8, 8), torch.randn(1, 16, 4, 4))
    expected = neck(feats)
    got = forward_neck(neck, feats, data_samples=None)
    assert all(torch.equal(a, b) for a, b in zip(expected, got, strict=True))
    assert not neck_needs_data_samples(neck)


def test_meta_detector_with_a_plain_neck_is_the_mmdet_detector() -> None:
    """The mixin adds nothing but the sample hand-over: same weights ⇒ identical outputs."""
    cfg = read_config(TINY_BASELINE).model
    cfg.neck = dict(type="AuxFPN", in_channels=[32, 64, 128, 256], out_channels=64, num_outs=4,
                    out_indices=(0, 1), m2dm_levels=(), leem_levels=())
    plain = build_detector(cfg)
    cfg.type = "MetaTwoStageDetector"
    meta = build_detector(cfg)
    meta.load_state_dict(plain.state_dict())
    assert type(plain) is TwoStageDetector and isinstance(meta, TwoStageDetector)
    plain.eval()
    meta.eval()
    inputs, samples = demo_batch(plain, SIZE, training=False)
    with torch.no_grad():
        a = plain(inputs, samples, mode="tensor")
        b = meta(inputs, samples, mode="tensor")
    flat_a, flat_b = _flat(a), _flat(b)
    assert len(flat_a) == len(flat_b) > 0
    assert all(torch.equal(x, y) for x, y in zip(flat_a, flat_b, strict=True))


# --------------------------------------------------------------------------- with the real AuxFPN


def test_auxdet_tiny_trains_with_batch_size_one() -> None:
    model = _tiny_model(TINY_AUXDET)
    assert isinstance(model, MetaTwoStageDetector) and model.needs_data_samples
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs, samples = demo_batch(model, [(64, 64)], training=True)
    before = {n: p.detach().clone() for n, p in model.neck.named_parameters() if "m2dm" in n}
    losses = model(inputs, samples, mode="loss")
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for n, p in model.neck.named_parameters() if "metadata_encoder" in n]
    assert grads and any(g is not None and g.abs().sum() > 0 for g in grads)  # metadata path is trained
    optim.step()
    changed = [n for n, p in model.neck.named_parameters() if n in before and not torch.equal(p, before[n])]
    assert changed


def test_auxdet_predictions_depend_on_the_metadata() -> None:
    model = _tiny_model(TINY_AUXDET)
    model.eval()
    inputs, samples = demo_batch(model, [(64, 64)], training=False)
    _, other = demo_batch(model, [(64, 64)], [dict(platform="Space", band="NIR", width=2048, height=2048)],
                          training=False)
    with torch.no_grad():
        a = _flat(model(inputs, samples, mode="tensor"))
        b = _flat(model(inputs, other, mode="tensor"))
    assert any(not torch.allclose(x, y) for x, y in zip(a, b, strict=True))


def test_auxdet_without_metadata_fields_needs_no_metainfo_keys() -> None:
    """Tab. 6 'none': the neck still needs samples for the batch, but none of their metadata keys."""
    cfg = read_config(TINY_AUXDET).model
    cfg.neck.metadata = dict(fields=())
    model = build_detector(cfg)
    model.eval()
    inputs, samples = demo_batch(model, [(64, 64)], training=False)
    bare = [DetDataSample(metainfo={k: v for k, v in s.metainfo.items() if k not in ("platform", "band")})
            for s in samples]
    with torch.no_grad():
        out = model(inputs, bare, mode="predict")
    assert len(out) == 1
    # a single-stage detector with such a neck even runs without any samples (tensor mode)
    retina = shrink_model_cfg(read_config("ablations/tab9_retinanet_auxdet").model, **_SMALL)
    retina.neck.metadata = dict(fields=())
    retina = build_detector(retina).eval()
    inputs, _ = demo_batch(retina, [(64, 64)], training=False)
    with torch.no_grad():
        assert len(retina(inputs)) == 2  # (cls_scores, bbox_preds)


# ------------------------------------------------------------------------------------------- helpers


def test_config_helpers_resolve_names_and_report_bad_input(tmp_path) -> None:
    assert config_path("ablations/tab3_pssm") == config_path("ablations/tab3_pssm.py")
    assert config_path("ablations/tab3_pssm").is_file()
    assert all("_base_" not in p.parts for p in list_configs())
    assert {p.name for p in list_configs("cpu_tiny")} == {
        "auxdet_r18_tiny_synthetic.py", "cascade_rpn_r18_tiny_synthetic.py",
        "auxdet_faster_rcnn_r18_tiny_synthetic.py", "faster_rcnn_r18_tiny_synthetic.py",
        "auxdet_nometa_faster_rcnn_r18_tiny_synthetic.py"}
    assert config_path("faster_rcnn_r18_tiny_synthetic") == config_path("cpu_tiny/faster_rcnn_r18_tiny_synthetic")
    with pytest.raises(FileNotFoundError, match="not found.*available: "):
        config_path("no_such_config")
    cfg = read_config(TINY_AUXDET, cfg_options={"model.neck.aux_mode": "meta"})
    assert cfg.model.neck.aux_mode == "meta"
    with pytest.raises(ValueError, match="ResNet backbones"):
        shrink_model_cfg(dict(backbone=dict(type="SwinTransformer")))
    model = _tiny_model(TINY_BASELINE)
    with pytest.raises(ValueError, match="2 metadata records for 1 images"):
        demo_batch(model, [(64, 64)], [dict(platform="Air", band="LWIR", width=1, height=1)] * 2)


# ----------------------------------------------------------------- proof that the stack works (R50)


def test_cascade_rpn_r50_baseline_trains_and_predicts_on_cpu() -> None:
    """The paper's baseline from its config: one SGD step and one inference on a random 256² image."""
    cfg = read_config("cascade_rpn_r50_fpn_1x_wideirstd")
    model = build_detector(cfg, init_weights=False)
    assert cfg.model.roi_head.bbox_head.num_classes == 1

    plain_cfg = read_config("cascade_rpn_r50_fpn_1x_wideirstd").model
    plain_cfg.neck = dict(type="FPN", in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=4)
    plain = build_detector(plain_cfg, init_weights=False)
    n_plain = sum(p.numel() for p in plain.parameters())
    assert abs(n_plain / 1e6 - 41.936) < 0.01, n_plain  # notes/official.md, measured with mmdet 3.3.0
    # AuxFPN without modules == FPN minus the two output convs whose levels are never returned (1.18 M)
    from auxdet.models import dead_fpn_conv_params

    dead = dead_fpn_conv_params(256, 4, (0, 1))
    assert sum(p.numel() for p in model.parameters()) == n_plain - dead
    assert abs((n_plain - dead) / 1e6 - 40.756) < 0.001

    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    inputs, samples = demo_batch(model, [(256, 256)], training=True)
    losses = model(inputs, samples, mode="loss")
    for key in ("s0.loss_rpn_reg", "s1.loss_rpn_cls", "s1.loss_rpn_reg", "loss_cls", "loss_bbox"):
        assert key in losses, sorted(losses)
    flat = _flat_losses(losses)
    assert all(torch.isfinite(v).all() for v in flat)
    loss, _ = model.parse_losses(losses)
    head = model.roi_head.bbox_head.fc_cls.weight
    before = head.detach().clone()
    optim.update_params(loss)
    assert not torch.equal(before, head)

    model.eval()
    inputs, samples = demo_batch(model, [(256, 256)], training=False)
    with torch.no_grad():
        (result,) = model(inputs, samples, mode="predict")
    assert isinstance(result, DetDataSample)
    pred = result.pred_instances
    n = len(pred)
    assert pred.bboxes.shape == (n, 4) and pred.scores.shape == (n,) and pred.labels.shape == (n,)
    assert n > 0 and bool((pred.labels == 0).all())
    assert bool(((pred.scores >= 0) & (pred.scores <= 1)).all())


# --------------------------------------------------------------------------------------------- utils


def _flat(x) -> list[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in _flat(item)]
    return []


def _flat_losses(losses: dict) -> list[torch.Tensor]:
    out = []
    for value in losses.values():
        out.extend(value if isinstance(value, (list, tuple)) else [value])
    assert out and not any(isinstance(v, float) and math.isnan(v) for v in out)
    return out
