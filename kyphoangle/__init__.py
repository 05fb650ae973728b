"""kyphoangle: spinal angles from endplate landmarks on lateral radiographs (the core, no Qt)."""

from kyphoangle.protocol import (
    Measurement,
    MeasurementName,
    MeasurementSet,
    NotComputed,
    compute_measurements,
)

__version__ = "0.1.0"

__all__ = [
    "Measurement",
    "MeasurementName",
    "MeasurementSet",
    "NotComputed",
    "__version__",
    "compute_measurements",
]
