"""The third-party DICOM files the dicom tests use, in one table (no patient data is in this repository).

Two sources, both installed packages (never downloaded at test time):
- pydicom's own test files, `pydicom/data/test_files/` inside the installed pydicom;
- the `pydicom-data` package (`data_store/data/`), which holds real CR radiographs (RG1, RG3) in
  uncompressed (UNCR explicit / UNCI implicit little endian), JPEG 2000 lossless (J2KR) and lossy
  (J2KI) encodings.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pydicom

PYDICOM_TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
"""pydicom's test files; every `*.dcm` there is part of the parametrised decode test."""


def _pydicom_data() -> Path | None:
    try:
        folder = Path(str(importlib.metadata.distribution("pydicom-data").locate_file("data_store/data")))
    except importlib.metadata.PackageNotFoundError:
        return None
    return folder if folder.is_dir() else None


PYDICOM_DATA = _pydicom_data()
"""The `pydicom-data` package's data folder, or None when the package is not installed."""

CR_FILMS = ("RG1", "RG3")
"""Real CR radiographs in pydicom-data (MONOCHROME1, 16 bits allocated)."""

CR_LOSSLESS_PAIR = ("UNCR", "J2KR")
"""The film uncompressed and in lossless JPEG 2000: identical pixels."""

CR_LOSSY_PAIR = ("UNCI", "J2KI")
"""The film in lossy JPEG 2000 (J2KI) and the same lossy pixels stored uncompressed (UNCI: its
LossyImageCompression is 01, "JPEG 2000 irreversible (lossy)"; the "I" is for irreversible, not for
implicit VR): identical pixels, close to the lossless film."""

CR_LOSSY_TOLERANCE_PERCENT = (2.0, 0.25)
"""Lossy J2KI against the lossless film: (maximum, mean) of |difference| as a percentage of the film's
value range. Measured: RG1 max 1.57 %, mean 0.20 % (range 874-26479); RG3 max 0.88 %, mean 0.08 %
(range 0-1023)."""

ENCODING_PAIRS = (
    # (reference, same pixels in another encoding) in pydicom's test files
    ("MR_small.dcm", "MR_small_bigendian.dcm"),
    ("MR_small.dcm", "MR_small_expb.dcm"),
    ("MR_small.dcm", "MR_small_implicit.dcm"),
    ("MR_small.dcm", "MR_small_RLE.dcm"),
    ("MR_small.dcm", "MR_small_jp2klossless.dcm"),
    ("MR_small.dcm", "MR_small_jpeg_ls_lossless.dcm"),
    ("liver_1frame.dcm", "liver_expb_1frame.dcm"),
    ("rtdose_1frame.dcm", "rtdose_expb_1frame.dcm"),
    ("rtdose_1frame.dcm", "rtdose_rle_1frame.dcm"),
    ("SC_rgb_small_odd.dcm", "SC_rgb_small_odd_big_endian.dcm"),
)

DATA_ENCODING_PAIRS = (
    # the same, in pydicom-data
    ("emri_small.dcm", "emri_small_big_endian.dcm"),
    ("emri_small.dcm", "emri_small_RLE.dcm"),
    ("emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm"),
    ("emri_small.dcm", "emri_small_jpeg_ls_lossless.dcm"),
    # not ("OBXXXX1A.dcm", "OBXXXX1A_expb.dcm"): the big endian copy's 16-bit palette entries are
    # byte-swapped (pydicom's own apply_color_lut gives values 256 times smaller), a flaw of the file.
    ("OBXXXX1A.dcm", "OBXXXX1A_rle.dcm"),
    ("693_UNCR.dcm", "693_J2KR.dcm"),
    ("MR2_UNCR.dcm", "MR2_J2KR.dcm"),
)

UNDECODABLE_BY_PYDICOM = {
    # pydicom test files whose `pixel_array` fails, and what load_radiograph says instead
    "JPEG-lossy.dcm": "loads",  # 12-bit JPEG Extended: decoded by imagecodecs (pydicom has no BSD plugin)
    "JPGExtended.dcm": "loads",  # the same
    "JPEG2000-embedded-sequence-delimiter.dcm": "CorruptPixelDataError",
    "MR_truncated.dcm": "CorruptPixelDataError",
    "badVR.dcm": "CorruptPixelDataError",  # Number of Frames "1A" read as 1: 6,000 bytes for 400
    "ExplVR_BigEndNoMeta.dcm": "NoPixelDataError",  # an RT Ion Plan
    "ExplVR_LitEndNoMeta.dcm": "NoPixelDataError",
    "no_meta.dcm": "NotDicomError",
    "rtstruct.dcm": "NoPixelDataError",
    "meta_missing_tsyntax.dcm": "NotDicomError",  # empty file meta, a private element and pixel data
    "nested_priv_SQ.dcm": "NotAnImageError",
    "UN_sequence.dcm": "NoPixelDataError",
    "empty_charset_LEI.dcm": "NoPixelDataError",
    "no_meta_group_length.dcm": "NoPixelDataError",
    "priv_SQ.dcm": "NoPixelDataError",
    "reportsi.dcm": "NoPixelDataError",
    "reportsi_with_empty_number_tags.dcm": "NoPixelDataError",
    "rtplan.dcm": "NoPixelDataError",
    "rtplan_truncated.dcm": "NoPixelDataError",
    "test-SR.dcm": "NoPixelDataError",
    "waveform_ecg.dcm": "NoPixelDataError",
}

REFUSED_THOUGH_PYDICOM_DECODES = {
    # pydicom test files whose `pixel_array` works (with a warning) but which load_radiograph refuses
    "MR_small_padded.dcm": "CorruptPixelDataError",  # 128 bytes more than 64 x 64 x 16 bits
}

STRUCTURED_REPORT = "reportsi.dcm"
DICOMDIR_FOLDER = PYDICOM_TEST_FILES / "dicomdirtests"
"""A folder with DICOMDIRs (several encodings, one damaged: DICOMDIR-nopatient) and their files."""

MODALITY_LUT_FILE = "mlut_18.dcm"  # pydicom-data: Modality LUT Sequence
VOI_LUT_FILE = "vlut_04.dcm"  # pydicom-data: VOI LUT Sequence
PALETTE_FILE = "OBXXXX1A.dcm"  # pydicom-data: PALETTE COLOR
MULTIFRAME_FILE = "emri_small.dcm"  # pydicom-data: 10 frames
ENHANCED_FILE = "eCT_Supplemental.dcm"  # pydicom-data: enhanced CT, attributes in functional groups
