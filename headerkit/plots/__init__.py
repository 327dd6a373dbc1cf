"""Pictures where a picture says more than a table (matplotlib)."""

from headerkit.plots.anatomy import header_anatomy

__all__ = ["header_anatomy"]
