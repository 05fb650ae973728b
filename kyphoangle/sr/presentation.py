"""A signed read drawn on its film: a Grayscale Softcopy Presentation State (with highdicom).

Any PACS viewer that applies presentation states (Weasis, OHIF, most PACS workstations) then shows the
read over the film: layer `ENDPLATES` holds a line from the posterior to the anterior corner of every
endplate the reader placed; layer `LABELS` holds the level labels (`L1`, at the centre of the vertebra,
`L1*` for a fractured level) and the values (regional angle, ART and vertebral kyphosis next to the
fractured vertebra; the global curves next to their upper endplate). Coordinates are the film's pixels,
as clicked. The film's own windowing is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from highdicom.pr import (
    AnnotationUnitsValues,
    GraphicAnnotation,
    GraphicLayer,
    GraphicObject,
    GraphicTypeValues,
    GrayscaleSoftcopyPresentationState,
    TextObject,
)
from pydicom import Dataset

from kyphoangle import __version__
from kyphoangle.anatomy import Corner, LandmarkKey, Vertebra
from kyphoangle.protocol import MeasurementName, Unit
from kyphoangle.sr.report import MANUFACTURER, derived_uid, person_name
from kyphoangle.sr.signed_read import SignedRead

GSPS_SERIES_NUMBER = 9902
LEVEL_VALUES: tuple[tuple[MeasurementName, str], ...] = (
    (MeasurementName.REGIONAL_ANGLE, "RA"),
    (MeasurementName.TRAUMATIC_REGIONAL_ANGLE, "ART"),
    (MeasurementName.VERTEBRAL_KYPHOSIS, "VK"),
)
"""The values written next to a fractured vertebra, with their short labels."""
GLOBAL_VALUES: tuple[tuple[MeasurementName, str], ...] = (
    (MeasurementName.THORACIC_KYPHOSIS, "TK"),
    (MeasurementName.LUMBAR_LORDOSIS, "LL"),
)


def _unit(unit: Unit) -> str:
    return {Unit.DEG: " deg", Unit.MM: " mm", Unit.PX: " px", Unit.PERCENT: " %"}.get(unit, "")


def _centre(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    array = np.asarray(points, dtype=np.float64)
    return float(array[:, 0].mean()), float(array[:, 1].mean())


def _text(value: str, anchor: tuple[float, float]) -> TextObject:
    return TextObject(
        text_value=value[:64],
        units=AnnotationUnitsValues.PIXEL,
        anchor_point=anchor,
        anchor_point_visible=False,
    )


def _label_objects(read: SignedRead) -> list[TextObject]:
    points = read.content.points
    by_vertebra: dict[Vertebra, list[tuple[float, float]]] = {}
    for key, point in points.items():
        by_vertebra.setdefault(LandmarkKey.parse(key).endplate.vertebra, []).append(point)
    values = {(v.name, v.level): v for v in read.values}
    texts = []
    for vertebra, corners in sorted(by_vertebra.items(), key=lambda item: item[0].order):
        fractured = str(vertebra) in read.content.fractured_levels
        texts.append(_text(f"{vertebra}{'*' if fractured else ''}", _centre(corners)))
        parts = []
        for name, short in LEVEL_VALUES:
            value = values.get((name, str(vertebra)))
            if value is not None:
                parts.append(f"{short} {value.value:.1f}{_unit(value.unit)}")
        if parts:
            column, row = _centre(corners)
            spread = float(np.ptp(np.asarray(corners)[:, 0])) if len(corners) > 1 else 50.0
            texts.append(_text(", ".join(parts), (column + spread, row)))
    for name, short in GLOBAL_VALUES:
        value = values.get((name, None))
        if value is None:
            continue
        endpoints = read.content.endpoints
        upper = (
            (endpoints.kyphosis if name is MeasurementName.THORACIC_KYPHOSIS else endpoints.lordosis)[0]
            if endpoints
            else None
        )
        anchor_keys = upper.line_keys if upper is not None else ()
        anchors = [points[k] for k in anchor_keys if k in points]
        if anchors:
            column, row = _centre(anchors)
            texts.append(
                _text(f"{short} {value.value:.1f}{_unit(value.unit)}", (column, max(row - 30.0, 0.0)))
            )
    return texts


def _endplate_objects(read: SignedRead) -> list[GraphicObject]:
    points = read.content.points
    endplates = sorted({LandmarkKey.parse(k).endplate for k in points}, key=lambda e: e.sort_key)
    lines = []
    for endplate in endplates:
        posterior, anterior = endplate.key(Corner.POSTERIOR), endplate.key(Corner.ANTERIOR)
        if posterior in points and anterior in points:
            lines.append(
                GraphicObject(
                    graphic_type=GraphicTypeValues.POLYLINE,
                    graphic_data=np.array([points[posterior], points[anterior]], dtype=np.float64),
                    units=AnnotationUnitsValues.PIXEL,
                    tracking_id=str(endplate),
                    tracking_uid=derived_uid("gsps-endplate", read.read_id, str(endplate)),
                )
            )
    return lines


def presentation_state(read: SignedRead, film: Dataset) -> GrayscaleSoftcopyPresentationState:
    """The presentation state drawing one signed read on `film` (its header, no pixels needed)."""
    lines_layer = GraphicLayer(layer_name="ENDPLATES", order=1, description="Endplate lines")
    labels_layer = GraphicLayer(layer_name="LABELS", order=2, description="Levels and values")
    annotations = []
    lines = _endplate_objects(read)
    if lines:
        annotations.append(
            GraphicAnnotation(referenced_images=[film], graphic_layer=lines_layer, graphic_objects=lines)
        )
    labels = _label_objects(read)
    if labels:
        annotations.append(
            GraphicAnnotation(referenced_images=[film], graphic_layer=labels_layer, text_objects=labels)
        )
    stamp = read.signed_at.astimezone(dt.UTC)
    state = GrayscaleSoftcopyPresentationState(
        referenced_images=[film],
        series_instance_uid=derived_uid("gsps-series", film.StudyInstanceUID, "kyphoangle"),
        series_number=GSPS_SERIES_NUMBER,
        sop_instance_uid=derived_uid("gsps", read.read_id, film.SOPInstanceUID, stamp.isoformat()),
        instance_number=read.read_id,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MANUFACTURER,
        software_versions=__version__,
        device_serial_number="0",
        content_label=f"READ{read.read_id}"[:16],
        content_description=f"kyphoangle {read.read_type} read {read.read_id}"[:64],
        graphic_annotations=annotations or None,
        graphic_layers=[lines_layer, labels_layer] if annotations else None,
        content_creator_name=person_name(read.observer.name),
    )
    state.SeriesDescription = "kyphoangle read overlays"
    if "Laterality" not in state:
        state.Laterality = None  # type 2C in the General Series module: present, empty (unpaired spine)
    return state
