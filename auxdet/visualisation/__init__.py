"""Figures of auxdet: shared style/saving (:mod:`.style`), the paper's Fig. 1 panels (:mod:`.fig1`), and
:func:`show_source` (:mod:`.source`), which displays the package code of an equation in a notebook.

Plot functions take DataFrames and return matplotlib Figures; they never load data themselves.
"""

from auxdet.visualisation.source import show_source, source_markdown
from auxdet.visualisation.style import BAND_COLORS, PLATFORM_COLORS, save_figure

__all__ = ["BAND_COLORS", "PLATFORM_COLORS", "save_figure", "show_source", "source_markdown"]
