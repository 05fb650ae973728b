"""A signed read drawn on its film: a Grayscale Softcopy Presentation State (with highdicom).

Any PACS viewer that applies presentation states (Weasis, OHIF, most PACS workstations) then shows the
read over the film as the workstation draws it (`kyphoangle.annotation`), in layers the viewer can show
or hide one by one (`LAYERS`), each with its recommended colour (CIELab) and grey level:

- `ENDPLATES_SUP`, `ENDPLATES_INF`: a line through the posterior and anterior corners of every endplate
  the reader placed, past each corner by a quarter of its length (sky blue, orange);
- `ANGLE_TK`, `ANGLE_LL`, `ANGLE_RA`, `ANGLE_VK`: each computed angle's glyph (thoracic kyphosis,
  lumbar lordosis, regional angle, vertebral kyphosis): two rays parallel to its endplates from a vertex
  in front of the spine, the arc between them (a polyline: DICOM has no arc), and its name with its
  signed value (yellow, bluish green, vermillion, reddish purple);
- `LABELS`: the level labels (`L1`, at the centre of the vertebra, `L1*` for a fractured level) and
  the values not drawn as an angle (the traumatic regional angle, ART, next to the fractured vertebra)
  (white).

Coordinates are the film's pixels, as clicked; the rays and arcs are sized from the endplates. The
film's own windowing is kept. The SOP Instance UID derives from the read, its signature and
`DRAWING_VERSION`, so the same read drawn the same way is the same instance, and drawn differently a
new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from highdicom.color import CIELabColor
from highdicom.pr import (
    AnnotationUnitsValues,
    GraphicAnnotation,
    GraphicLayer,
    GraphicObject,
    GraphicTypeValues,
    GrayscaleSoftcopyPresentationState,
    TextJustificationValues,
    TextObject,
)
from pydicom import Dataset

from kyphoangle import __version__
from kyphoangle.anatomy import Corner, LandmarkKey, Vertebra
from kyphoangle.annotation import (
    ANGLE_COLORS,
    ARC_RADIUS,
    RAY_LENGTH,
    SIDE_COLORS,
    TEXT_HEIGHT,
    TEXT_OFFSET,
    AngleGlyph,
    endplate_line,
    reported_glyph,
)
from kyphoangle.protocol import MeasurementName, Unit
from kyphoangle.sr.report import MANUFACTURER, derived_uid, person_name
from kyphoangle.sr.signed_read import SignedRead
from kyphoangle.vocabulary import EndplateSide

GSPS_SERIES_NUMBER = 9902
DRAWING_VERSION = 2
"""Version of what the presentation state draws, part of its SOP Instance UID: raised whenever the
drawing of the same read changes (2: the angle glyphs), so that a PACS holding the earlier instance
takes the new drawing as a new instance rather than ignoring it as a duplicate."""
LEVEL_VALUES: tuple[tuple[MeasurementName, str], ...] = ((MeasurementName.TRAUMATIC_REGIONAL_ANGLE, "ART"),)
"""The values written next to a fractured vertebra in layer `LABELS`, with their short labels (the
angles drawn as glyphs carry their own value)."""


@dataclass(frozen=True, slots=True)
class Layer:
    """One graphic layer of the presentation state: its name, what it holds, its recommended colour."""

    name: str
    description: str
    color: str
    """Hexadecimal sRGB, e.g. `#56b4e9`; written as CIELab, and as a grey level of the same lightness."""


ENDPLATE_LAYERS: Mapping[EndplateSide, Layer] = {
    EndplateSide.SUPERIOR: Layer(
        "ENDPLATES_SUP", "Superior endplate lines", SIDE_COLORS[EndplateSide.SUPERIOR]
    ),
    EndplateSide.INFERIOR: Layer(
        "ENDPLATES_INF", "Inferior endplate lines", SIDE_COLORS[EndplateSide.INFERIOR]
    ),
}
"""The endplate lines, one layer per side."""
ANGLE_LAYERS: Mapping[MeasurementName, Layer] = {
    name: Layer(f"ANGLE_{short}", f"{description}: rays, arc and value", ANGLE_COLORS[name])
    for name, short, description in (
        (MeasurementName.THORACIC_KYPHOSIS, "TK", "Thoracic kyphosis"),
        (MeasurementName.LUMBAR_LORDOSIS, "LL", "Lumbar lordosis"),
        (MeasurementName.REGIONAL_ANGLE, "RA", "Regional angle"),
        (MeasurementName.VERTEBRAL_KYPHOSIS, "VK", "Vertebral kyphosis"),
    )
}
"""The angle glyphs, one layer per kind of angle."""
LABELS_LAYER = Layer("LABELS", "Level labels and other values", "#ffffff")
"""The level labels and the values not drawn as angles."""
LAYERS: tuple[Layer, ...] = (*ENDPLATE_LAYERS.values(), *ANGLE_LAYERS.values(), LABELS_LAYER)
"""Every layer, in drawing order (the labels on top)."""


def _unit(unit: Unit) -> str:
    return {Unit.DEG: " deg", Unit.MM: " mm", Unit.PX: " px", Unit.PERCENT: " %"}.get(unit, "")


def _centre(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    array = np.asarray(points, dtype=np.float64)
    return float(array[:, 0].mean()), float(array[:, 1].mean())


Bounds = tuple[float, float]
"""The film's columns and rows: every point drawn is kept within them (a presentation state's pixel
coordinates cannot be negative)."""


def _inside(point: tuple[float, float], bounds: Bounds) -> tuple[float, float]:
    return min(max(point[0], 0.0), bounds[0]), min(max(point[1], 0.0), bounds[1])


def _text(value: str, anchor: tuple[float, float], bounds: Bounds) -> TextObject:
    return TextObject(
        text_value=value[:64],
        units=AnnotationUnitsValues.PIXEL,
        anchor_point=_inside(anchor, bounds),
        anchor_point_visible=False,
    )


def _glyph_text(glyph: AngleGlyph, bounds: Bounds) -> TextObject:
    """The glyph's name and value beside its vertex: in a box that starts at the text's anchor and
    grows away from the rays (left-justified to the right of the vertex, right-justified to its left),
    its size estimated from the glyph's (viewers choose their own font)."""
    text = glyph.label(" deg")
    height = TEXT_HEIGHT * glyph.size
    width = 0.6 * height * len(text)
    column, row = glyph.text_anchor(TEXT_OFFSET * glyph.size)
    right = glyph.away[0] >= 0
    left_column = column if right else column - width
    top_left = _inside((left_column, row - height / 2.0), bounds)
    bottom_right = _inside((left_column + width, row + height / 2.0), bounds)
    return TextObject(
        text_value=text[:64],
        units=AnnotationUnitsValues.PIXEL,
        bounding_box=(*top_left, *bottom_right),
        text_justification=TextJustificationValues.LEFT if right else TextJustificationValues.RIGHT,
        anchor_point=_inside((column, row), bounds),
        anchor_point_visible=False,
    )


def _label_objects(read: SignedRead, bounds: Bounds) -> list[TextObject]:
    points = read.content.points
    by_vertebra: dict[Vertebra, list[tuple[float, float]]] = {}
    for key, point in points.items():
        by_vertebra.setdefault(LandmarkKey.parse(key).endplate.vertebra, []).append(point)
    values = {(v.name, v.level): v for v in read.values}
    texts = []
    for vertebra, corners in sorted(by_vertebra.items(), key=lambda item: item[0].order):
        fractured = str(vertebra) in read.content.fractured_levels
        texts.append(_text(f"{vertebra}{'*' if fractured else ''}", _centre(corners), bounds))
        parts = []
        for name, short in LEVEL_VALUES:
            value = values.get((name, str(vertebra)))
            if value is not None:
                parts.append(f"{short} {value.value:.1f}{_unit(value.unit)}")
        if parts:
            column, row = _centre(corners)
            spread = float(np.ptp(np.asarray(corners)[:, 0])) if len(corners) > 1 else 50.0
            texts.append(_text(", ".join(parts), (column + spread, row), bounds))
    return texts


def _polyline(
    points: Sequence[tuple[float, float]], tracking: str, uid: str, bounds: Bounds
) -> GraphicObject:
    return GraphicObject(
        graphic_type=GraphicTypeValues.POLYLINE,
        graphic_data=np.array([_inside(point, bounds) for point in points], dtype=np.float64),
        units=AnnotationUnitsValues.PIXEL,
        tracking_id=tracking[:64],
        tracking_uid=uid,
    )


def _endplate_objects(read: SignedRead, bounds: Bounds) -> dict[EndplateSide, list[GraphicObject]]:
    points = read.content.points
    endplates = sorted({LandmarkKey.parse(k).endplate for k in points}, key=lambda e: e.sort_key)
    lines: dict[EndplateSide, list[GraphicObject]] = {}
    for endplate in endplates:
        posterior, anterior = endplate.key(Corner.POSTERIOR), endplate.key(Corner.ANTERIOR)
        if posterior in points and anterior in points:
            line = endplate_line(points[posterior], points[anterior])
            uid = derived_uid("gsps-endplate", read.read_id, str(endplate))
            lines.setdefault(endplate.side, []).append(_polyline(line, str(endplate), uid, bounds))
    return lines


def read_glyphs(read: SignedRead) -> tuple[AngleGlyph, ...]:
    """The angle glyphs of a signed read: one per reported angle drawn on the film, with its value."""
    glyphs = (
        reported_glyph(v.name, v.level, v.value, read.content.points, read.content.endpoints)
        for v in read.values
        if v.unit is Unit.DEG
    )
    return tuple(g for g in glyphs if g is not None)


def glyph_tracking_id(glyph: AngleGlyph, part: str) -> str:
    """The Tracking ID of one part (`rays`, `arc`) of a glyph, e.g. `regional_angle L1 arc`."""
    return f"{glyph.name}{f' {glyph.level}' if glyph.level else ''} {part}"


def _glyph_objects(
    read: SignedRead, bounds: Bounds
) -> dict[MeasurementName, tuple[list[GraphicObject], list[TextObject]]]:
    drawn: dict[MeasurementName, tuple[list[GraphicObject], list[TextObject]]] = {}
    for glyph in read_glyphs(read):
        graphics, texts = drawn.setdefault(glyph.name, ([], []))
        size = glyph.size
        upper_end, lower_end = glyph.ray_ends(RAY_LENGTH * size)
        for part, line in (
            ("rays", [upper_end, glyph.vertex, lower_end]),
            ("arc", list(glyph.arc_points(ARC_RADIUS * size))),
        ):
            tracking = glyph_tracking_id(glyph, part)
            graphics.append(
                _polyline(line, tracking, derived_uid("gsps-glyph", read.read_id, tracking), bounds)
            )
        texts.append(_glyph_text(glyph, bounds))
    return drawn


def _graphic_layer(layer: Layer, order: int) -> GraphicLayer:
    red, green, blue = (int(layer.color[i : i + 2], 16) for i in (1, 3, 5))
    color = CIELabColor.from_rgb(red, green, blue)
    graphic_layer = GraphicLayer(
        layer_name=layer.name, order=order, description=layer.description, display_color=color
    )
    lightness = min(max(color.l_star / 100.0, 0.0), 1.0)
    graphic_layer.GraphicLayerRecommendedDisplayGrayscaleValue = round(lightness * 0xFFFF)
    return graphic_layer


def presentation_uid(
    read_id: int, film_uid: str, signed_at: dt.datetime, version: int = DRAWING_VERSION
) -> str:
    """The SOP Instance UID of the presentation state of one signed read (signing time in UTC)."""
    return derived_uid("gsps", read_id, film_uid, signed_at.isoformat(), f"drawing {version}")


def presentation_state(read: SignedRead, film: Dataset) -> GrayscaleSoftcopyPresentationState:
    """The presentation state drawing one signed read on `film` (its header, no pixels needed)."""
    bounds = (float(film.Columns), float(film.Rows))
    contents: dict[str, tuple[list[GraphicObject], list[TextObject]]] = {}
    for side, lines in _endplate_objects(read, bounds).items():
        contents[ENDPLATE_LAYERS[side].name] = (lines, [])
    for name, drawn in _glyph_objects(read, bounds).items():
        contents[ANGLE_LAYERS[name].name] = drawn
    labels = _label_objects(read, bounds)
    if labels:
        contents[LABELS_LAYER.name] = ([], labels)
    layers = [
        _graphic_layer(layer, order) for order, layer in enumerate(LAYERS, start=1) if layer.name in contents
    ]
    annotations = [
        GraphicAnnotation(
            referenced_images=[film],
            graphic_layer=layer,
            graphic_objects=contents[layer.GraphicLayer][0] or None,
            text_objects=contents[layer.GraphicLayer][1] or None,
        )
        for layer in layers
    ]
    stamp = read.signed_at.astimezone(dt.UTC)
    state = GrayscaleSoftcopyPresentationState(
        referenced_images=[film],
        series_instance_uid=derived_uid("gsps-series", film.StudyInstanceUID, "kyphoangle"),
        series_number=GSPS_SERIES_NUMBER,
        sop_instance_uid=presentation_uid(read.read_id, film.SOPInstanceUID, stamp),
        instance_number=read.read_id,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MANUFACTURER,
        software_versions=__version__,
        device_serial_number="0",
        content_label=f"READ{read.read_id}"[:16],
        content_description=f"kyphoangle {read.read_type} read {read.read_id}"[:64],
        graphic_annotations=annotations or None,
        graphic_layers=layers or None,
        content_creator_name=person_name(read.observer.name),
    )
    state.SeriesDescription = "kyphoangle read overlays"
    if "Laterality" not in state:
        state.Laterality = None  # type 2C in the General Series module: present, empty (unpaired spine)
    return state
