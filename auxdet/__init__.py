"""auxdet — AuxDet (auxiliary metadata for omni-domain IRSTD) on mmdet 3.3."""

__version__ = "0.1.0"
