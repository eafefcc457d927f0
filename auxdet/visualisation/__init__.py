"""Figures of auxdet: shared style/saving (:mod:`.style`) and the paper's Fig. 1 panels (:mod:`.fig1`).

Plot functions take DataFrames and return matplotlib Figures; they never load data themselves.
"""

from auxdet.visualisation.style import BAND_COLORS, PLATFORM_COLORS, save_figure

__all__ = ["BAND_COLORS", "PLATFORM_COLORS", "save_figure"]
