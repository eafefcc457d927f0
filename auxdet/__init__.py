"""auxdet — AuxDet (auxiliary metadata for omni-domain IRSTD) on mmdet 3.3.

``import auxdet`` registers every auxdet component in mmdet's registries: the ``AuxFPN`` neck and the
metadata-aware detectors (MODELS), the datasets (DATASETS), ``LoadIRImageFromFile`` (TRANSFORMS),
``AuxVOCMetric`` (METRICS) and auxdet's training hooks (HOOKS). Configs load it through
``custom_imports = dict(imports=['auxdet'])``. It also silences a short list of known deprecation warnings
of mmdet / mmengine / torch (:data:`KNOWN_LIBRARY_WARNINGS`), so notebook outputs are not walls of them.
"""

__version__ = "0.1.0"

import warnings

#: Known deprecation noise of the pinned stack that a student cannot act on: (message regex, emitting module).
#:  1. mmdet's IoULoss: 'Setting "linear=True" ... deprecated' — the Cascade RPN configs (ours, mmdet's and the
#:     official AuxDet code) say `linear=True`, which mmdet itself maps to mode='linear';
#:  2. mmdet's AnchorHead: '`num_anchors` is deprecated' — mmdet's own StageCascadeRPNHead reads it;
#:  3. torch.meshgrid: 'it will be required to pass the indexing argument' — mmdet's Cascade RPN head calls
#:     torch.meshgrid without `indexing` (the 'ij' it relies on is torch's current default);
#:  4. mmengine's setup_env: 'start method `fork` is different from the previous setting `spawn`' — auxdet's
#:     side-by-side trainer (engine.parallel) runs each Runner in a spawned worker, which then uses fork.
#: tqdm's 'IProgress not found' is fixed, not silenced: ipywidgets is installed (requirements.txt).
KNOWN_LIBRARY_WARNINGS: tuple[tuple[str, str], ...] = (
    (r'DeprecationWarning: Setting "linear=True" in IOULoss is deprecated', r"mmdet\.models\.losses\.iou_loss$"),
    (r"DeprecationWarning: `num_anchors` is deprecated", r"mmdet\.models\.dense_heads\.anchor_head$"),
    (r"torch\.meshgrid: in an upcoming release, it will be required to pass the indexing argument", r"torch\.functional$"),
    (r"Multi-processing start method `fork` is different from the previous setting `spawn`",
     r"mmengine\.utils\.dl_utils\.setup_env$"),
)


def quiet_known_library_warnings() -> None:
    """Ignore exactly :data:`KNOWN_LIBRARY_WARNINGS` (UserWarnings, by message and module); run on import, so
    also in spawned training workers, which import auxdet. Every other warning is shown as usual."""
    for message, module in KNOWN_LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning, module=module)


quiet_known_library_warnings()

from auxdet import data, evaluation, models  # noqa: E402,F401  (registration side effects)
from auxdet.engine import hooks  # noqa: E402,F401
from auxdet.models import detector  # noqa: E402,F401
