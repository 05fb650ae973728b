"""`kyphoangle measure`: every measurement a landmark file allows on one image, as JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from kyphoangle.dicom import read_header
from kyphoangle.errors import LandmarkFileError
from kyphoangle.landmark_file import read_landmark_file
from kyphoangle.normal_table import DEFAULT_NORMAL_TABLE, load_normal_table
from kyphoangle.protocol import MeasurementSet, compute_measurements

CSV_COLUMNS = (
    "name", "level", "value", "unit", "spacing_source", "normal_table", "normal_table_version", "endpoints",
    "landmarks", "not_computed_reason", "missing",
)  # fmt: skip


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `measure` command."""
    parser = subparsers.add_parser(
        "measure",
        help="compute measurements from a landmark file",
        description="Print every measurement the landmarks allow on IMAGE; the rest are listed"
        " as not computed.",
    )
    parser.add_argument("image", help="DICOM radiograph")
    parser.add_argument(
        "--landmarks",
        required=True,
        help="landmark file (kyphoangle.landmarks/1 JSON; '-' for standard input)",
    )
    parser.add_argument(
        "--normal-table", help=f"normal table for ART (default: the file's, else {DEFAULT_NORMAL_TABLE})"
    )
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Compute and print; raises our errors for bad files (exit 2 from `main`)."""
    header = read_header(args.image)
    landmarks = read_landmark_file(args.landmarks)
    if landmarks.sop_instance_uid != header.sop_instance_uid:
        raise LandmarkFileError(
            args.landmarks,
            f"is for image {landmarks.sop_instance_uid}, but {args.image} is image {header.sop_instance_uid}",
        )
    for key, (column, row) in landmarks.points.items():
        if not (0 <= column <= header.columns and 0 <= row <= header.rows):
            raise LandmarkFileError(
                args.landmarks,
                f"landmark {key} at ({column}, {row}) lies outside the image "
                f"({header.columns} columns x {header.rows} rows)",
            )
    table = load_normal_table(args.normal_table or landmarks.normal_table or DEFAULT_NORMAL_TABLE)
    spacing = landmarks.calibration or header.spacing
    result = compute_measurements(
        landmarks.points,
        spacing=spacing,
        fractured_levels=landmarks.fractured_levels,
        normal_table=table,
        endpoints=landmarks.endpoints,
        not_evaluable=landmarks.not_evaluable,
        pixel_aspect_ratio=header.pixel_aspect_ratio,
        patient_orientation=header.patient_orientation or None,
    )
    document: dict[str, Any] = {
        "image": {
            "sop_instance_uid": header.sop_instance_uid,
            "rows": header.rows,
            "columns": header.columns,
        },
        "spacing": {"row_mm": spacing.row_mm, "col_mm": spacing.col_mm, "source": str(spacing.source)},
        "facing": str(result.facing) if result.facing else None,
        "measurements": [m.as_dict() for m in result.measurements],
        "not_computed": [n.as_dict() for n in result.not_computed],
    }
    if result.inconsistent_endplates:
        document["inconsistent_endplates"] = list(result.inconsistent_endplates)
    if args.format == "json":
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        write_csv(result)
    return 0


def write_csv(result: MeasurementSet) -> None:
    """One row per measurement, then one per measurement not computed."""
    writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for m in result.measurements:
        row = {key: value for key, value in m.as_dict().items() if key in CSV_COLUMNS}
        row["landmarks"] = " ".join(m.landmarks)
        writer.writerow(row)
    for n in result.not_computed:
        writer.writerow(
            {
                "name": n.name,
                "level": n.level,
                "not_computed_reason": n.reason,
                "missing": " ".join(n.missing),
            }
        )
