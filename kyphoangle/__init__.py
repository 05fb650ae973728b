"""kyphoangle: spinal angles from endplate landmarks on lateral radiographs (the core, no Qt).

The library's public names are importable from here; they are loaded on first use, so `import kyphoangle`
stays cheap (the command line starts without numpy, pydicom or SQLAlchemy)::

    import kyphoangle

    film = kyphoangle.load_radiograph("lateral.dcm")
    read = kyphoangle.read_landmarks("read.json")
    result = kyphoangle.compute_measurements(
        read.points,
        spacing=read.calibration or film.spacing,
        fractured_levels=read.fractured_levels,
        normal_table=kyphoangle.load_normal_table(),
    )

`docs/api.md` documents each name with a worked example.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from kyphoangle.anatomy import EndplateRef, LandmarkKey
    from kyphoangle.dicom.radiograph import Radiograph, RadiographHeader
    from kyphoangle.dicom.reader import load_radiograph, read_header
    from kyphoangle.errors import KyphoangleError
    from kyphoangle.landmark_file import LandmarkFile
    from kyphoangle.landmark_file import read_landmark_file as read_landmarks
    from kyphoangle.landmark_file import write_landmark_file as write_landmarks
    from kyphoangle.normal_table import NormalTable, available_normal_tables, load_normal_table
    from kyphoangle.protocol import (
        GlobalEndpoints,
        Measurement,
        MeasurementName,
        MeasurementSet,
        NotComputed,
        NotEvaluable,
        Unit,
        compute_measurements,
    )
    from kyphoangle.spacing import PixelSpacing
    from kyphoangle.vocabulary import (
        Corner,
        EndplateSide,
        NotEvaluableReason,
        ReadType,
        SpacingSource,
        Vertebra,
    )

_PUBLIC: dict[str, tuple[str, str]] = {
    # reading films
    "load_radiograph": ("kyphoangle.dicom.reader", "load_radiograph"),
    "read_header": ("kyphoangle.dicom.reader", "read_header"),
    "Radiograph": ("kyphoangle.dicom.radiograph", "Radiograph"),
    "RadiographHeader": ("kyphoangle.dicom.radiograph", "RadiographHeader"),
    "PixelSpacing": ("kyphoangle.spacing", "PixelSpacing"),
    "SpacingSource": ("kyphoangle.vocabulary", "SpacingSource"),
    # landmarks and their interchange file
    "read_landmarks": ("kyphoangle.landmark_file", "read_landmark_file"),
    "write_landmarks": ("kyphoangle.landmark_file", "write_landmark_file"),
    "LandmarkFile": ("kyphoangle.landmark_file", "LandmarkFile"),
    "ReadType": ("kyphoangle.vocabulary", "ReadType"),
    "Vertebra": ("kyphoangle.vocabulary", "Vertebra"),
    "EndplateSide": ("kyphoangle.vocabulary", "EndplateSide"),
    "Corner": ("kyphoangle.vocabulary", "Corner"),
    "EndplateRef": ("kyphoangle.anatomy", "EndplateRef"),
    "LandmarkKey": ("kyphoangle.anatomy", "LandmarkKey"),
    # measurements
    "compute_measurements": ("kyphoangle.protocol", "compute_measurements"),
    "Measurement": ("kyphoangle.protocol", "Measurement"),
    "MeasurementName": ("kyphoangle.protocol", "MeasurementName"),
    "MeasurementSet": ("kyphoangle.protocol", "MeasurementSet"),
    "NotComputed": ("kyphoangle.protocol", "NotComputed"),
    "NotEvaluable": ("kyphoangle.protocol", "NotEvaluable"),
    "NotEvaluableReason": ("kyphoangle.vocabulary", "NotEvaluableReason"),
    "GlobalEndpoints": ("kyphoangle.protocol", "GlobalEndpoints"),
    "Unit": ("kyphoangle.protocol", "Unit"),
    "NormalTable": ("kyphoangle.normal_table", "NormalTable"),
    "load_normal_table": ("kyphoangle.normal_table", "load_normal_table"),
    "available_normal_tables": ("kyphoangle.normal_table", "available_normal_tables"),
    # errors
    "KyphoangleError": ("kyphoangle.errors", "KyphoangleError"),
}
"""Public name -> (module, attribute) it is loaded from on first use."""

__all__ = [
    "Corner",
    "EndplateRef",
    "EndplateSide",
    "GlobalEndpoints",
    "KyphoangleError",
    "LandmarkFile",
    "LandmarkKey",
    "Measurement",
    "MeasurementName",
    "MeasurementSet",
    "NormalTable",
    "NotComputed",
    "NotEvaluable",
    "NotEvaluableReason",
    "PixelSpacing",
    "Radiograph",
    "RadiographHeader",
    "ReadType",
    "SpacingSource",
    "Unit",
    "Vertebra",
    "__version__",
    "available_normal_tables",
    "compute_measurements",
    "load_normal_table",
    "load_radiograph",
    "read_header",
    "read_landmarks",
    "write_landmarks",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562) and keep it for the next."""
    try:
        module_name, attribute = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'kyphoangle' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
