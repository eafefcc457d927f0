"""auxdet — AuxDet (auxiliary metadata for omni-domain IRSTD) on mmdet 3.3.

``import auxdet`` registers every auxdet component in mmdet's registries: the ``AuxFPN`` neck and the
metadata-aware detectors (MODELS), the datasets (DATASETS), ``LoadIRImageFromFile`` (TRANSFORMS),
``AuxVOCMetric`` (METRICS) and auxdet's training hooks (HOOKS). Configs load it through
``custom_imports = dict(imports=['auxdet'])``.
"""

__version__ = "0.1.0"

from auxdet import data, evaluation, models  # noqa: E402,F401  (registration side effects)
from auxdet.engine import hooks  # noqa: E402,F401
from auxdet.models import detector  # noqa: E402,F401
