"""The trial's measurements: their definitions and landmark requirements (data), and their computation.

- `definitions`: stable names, units, and the records of computed values;
- `requirements`: the shipped protocol file saying what each measurement is and which landmarks it
  needs, resolved per film (also the source of the reader's guidance and of the documentation);
- `computation`: every measurement from one reader's landmarks on one film.
"""

from __future__ import annotations

from types import MappingProxyType

from kyphoangle.protocol.computation import (
    angle_scale,
    compute_measurements,
    genant_grade,
    regional_endplates,
    validate_levels,
    validate_points,
)
from kyphoangle.protocol.definitions import (
    GlobalEndpoints,
    Measurement,
    MeasurementDefinition,
    MeasurementName,
    MeasurementSet,
    NotComputed,
    NotEvaluable,
    Scope,
    Unit,
)
from kyphoangle.protocol.requirements import (
    ProtocolFileError,
    RequiredLandmark,
    landmarks_needed,
    load_protocol,
    required_landmarks,
)
from kyphoangle.vocabulary import NotEvaluableReason

MEASUREMENT_DEFINITIONS = MappingProxyType(dict(load_protocol()))
"""Every measurement's definition, as the shipped protocol file states it, in its order."""

__all__ = [
    "MEASUREMENT_DEFINITIONS",
    "GlobalEndpoints",
    "Measurement",
    "MeasurementDefinition",
    "MeasurementName",
    "MeasurementSet",
    "NotComputed",
    "NotEvaluable",
    "NotEvaluableReason",
    "ProtocolFileError",
    "RequiredLandmark",
    "Scope",
    "Unit",
    "angle_scale",
    "compute_measurements",
    "genant_grade",
    "landmarks_needed",
    "load_protocol",
    "regional_endplates",
    "required_landmarks",
    "validate_levels",
    "validate_points",
]
