"""Constants of units, defined once: information is in bits at every user-facing boundary."""

from __future__ import annotations

import math

LN2 = math.log(2.0)
"""ln 2: nats / LN2 = bits."""
