"""ibkit: the information bottleneck in deep learning.

Sub-packages, one concept each: ``data`` (data sets), ``models`` (the papers'
architectures), ``experiments`` (presets and the run directory), ``report``
(figures), plus ``engine`` (the training loop) and ``cli``.
Information is reported in bits at every user-facing boundary.
"""

from ibkit._errors import IbkitError

__version__ = "0.1.0"

__all__ = ["IbkitError", "__version__"]
