"""Metadata analysis behind the paper's Fig. 1 and Appendix A (pandas / numpy).

* :mod:`.metadata_table` — the WideIRSTD-Full metadata table with its train/test split (or the
  labelled synthetic stand-in): :func:`load_metadata_table`, :func:`split_coverage`;
* :mod:`.distributions` — Fig. 1 (b), (c) and target sizes: :func:`platform_band_counts`,
  :func:`resolution_distribution`, :func:`size_class`, :func:`target_size_distribution`;
* :mod:`.claims` — Appendix A recomputed: :func:`space_nir_claim`, :func:`platform_resolution_coupling`,
  :func:`platform_given`, :func:`metadata_redundancy`;
* :mod:`.domain_probe` — can the domain be read off the pixels? A linear probe on global image
  statistics (:func:`domain_probe`, :func:`probe_synthetic`): the measurement of the synthetic
  generator's domain-ambiguity knob;
* :mod:`.contrast` — Fig. 1 (a): :func:`target_contrast` / :func:`contrast_table` of targets against
  their background ring, on real SIRST-V2 samples (:func:`auxdet.data.sirst.sirst_v2_samples`) or
  :func:`synthetic_contrast_samples`;
* :mod:`.parameters` — parameter counts of our detectors beside the paper's (the baseline offset, the
  modules' real overheads): :func:`~auxdet.analysis.parameters.parameter_accounting`. It builds mmdet
  models, so it is imported on its own (``from auxdet.analysis.parameters import ...``), not here.

Reading the files is the data layer's job (:func:`auxdet.data.statistics.read_statistics`,
:func:`auxdet.data.voc_io.read_split`, :mod:`auxdet.data.sirst`); figures are drawn by
:mod:`auxdet.visualisation.fig1`.
"""

from auxdet.analysis.claims import (
    PAPER_SPACE_NIR_PERCENT,
    SpaceNIRClaim,
    metadata_redundancy,
    platform_given,
    platform_resolution_coupling,
    space_nir_claim,
)
from auxdet.analysis.contrast import (
    CONTRAST_COLUMNS,
    contrast_table,
    summarise_contrast,
    synthetic_contrast_samples,
    target_contrast,
)
from auxdet.analysis.distributions import (
    SIZE_CLASSES,
    SIZE_THRESHOLDS,
    ordered,
    platform_band_counts,
    resolution_distribution,
    size_class,
    target_area_summary,
    target_size_distribution,
)
from auxdet.analysis.domain_probe import (
    FEATURES,
    domain_probe,
    examples_per_domain,
    image_statistics,
    probe_synthetic,
)
from auxdet.analysis.metadata_table import (
    COLUMNS,
    SYNTHETIC_FUNCTION,
    MetadataTable,
    SyntheticUnavailable,
    load_metadata_table,
    split_coverage,
)

__all__ = [
    "COLUMNS",
    "CONTRAST_COLUMNS",
    "FEATURES",
    "PAPER_SPACE_NIR_PERCENT",
    "SIZE_CLASSES",
    "SIZE_THRESHOLDS",
    "SYNTHETIC_FUNCTION",
    "MetadataTable",
    "SpaceNIRClaim",
    "SyntheticUnavailable",
    "contrast_table",
    "domain_probe",
    "examples_per_domain",
    "image_statistics",
    "probe_synthetic",
    "load_metadata_table",
    "metadata_redundancy",
    "ordered",
    "platform_band_counts",
    "platform_given",
    "platform_resolution_coupling",
    "resolution_distribution",
    "size_class",
    "space_nir_claim",
    "split_coverage",
    "summarise_contrast",
    "synthetic_contrast_samples",
    "target_area_summary",
    "target_contrast",
    "target_size_distribution",
]
