"""A copy of a radiograph for a blinded reader, de-identified to DICOM PS3.15 (see `deidentify`).

The whole dataset goes through the Basic Application Confidentiality Profile with the Clean
Descriptors, Clean Structured Content and Retain Device Identity options, at every depth; private
attributes are removed everywhere; comment and application segments are removed from every compressed
frame without re-encoding it (each frame's fragments are joined, cleaned, and encapsulated again as
one fragment per frame with a Basic Offset Table that gives the new offsets). Every UID that names the
instance, its series or study is replaced by a keyed hash under the campaign's secret
(`blinded_instance_uid` for the SOP Instance UID, which landmark files of the copy name): two copies of
one case agree, and nothing maps back to the original without the secret. The case code is the
patient's only name. Text burned into the pixels cannot be removed here; Burned In Annotation
(0028,0301) is kept so the data manager can see it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import UID

from kyphoangle.dicom.deidentify import deidentify, keyed_uid, strip_jpeg_comments
from kyphoangle.dicom.pixels import transfer_syntax
from kyphoangle.dicom.reader import read_dataset
from kyphoangle.errors import OutputFileError, RadiographError
from kyphoangle.output_file import output_binary

_IMPLEMENTATION_CLASS_UID = UID("1.2.826.0.1.3680043.10.1501.1")


def blinded_instance_uid(sop_instance_uid: str, case_code: str, key: bytes) -> str:
    """The SOP Instance UID of a case's blinded copy: a keyed hash of the film's UID and the case code
    under the campaign's secret `key` (the same film and case always give the same UID)."""
    return keyed_uid(sop_instance_uid, key, case_code)


def blinded_dataset(ds: Dataset, *, case_code: str, key: bytes, source: Path) -> Dataset:
    """The de-identified copy of a dataset read from `source` (which is left unchanged)."""
    if "SOPClassUID" not in ds or "SOPInstanceUID" not in ds:
        raise RadiographError(source, "the file has no SOP Class or Instance UID: it cannot be referred to")
    syntax = transfer_syntax(ds)
    if not syntax:
        raise RadiographError(source, "the file's encoding cannot be told: no copy was written")
    copy = Dataset()
    copy.update(ds)
    copy.set_original_encoding(*getattr(ds, "original_encoding", (False, True)))
    deidentify(copy, key=key, case_code=case_code)
    if UID(syntax).is_encapsulated and "PixelData" in copy:
        copy.PixelData = encapsulate(_cleaned_frames(copy, syntax, source))
        copy["PixelData"].VR = "OB"
        for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
            if keyword in copy:  # the offsets of the original fragments: the Basic Offset Table replaces them
                delattr(copy, keyword)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = copy.SOPClassUID
    meta.MediaStorageSOPInstanceUID = copy.SOPInstanceUID
    meta.TransferSyntaxUID = UID(syntax)
    meta.ImplementationClassUID = _IMPLEMENTATION_CLASS_UID
    copy.file_meta = meta
    return copy


def _cleaned_frames(ds: Dataset, syntax: str, source: Path) -> list[bytes]:
    """Every frame of the encapsulated pixel data, its fragments joined, without its comment segments."""
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    offsets = None
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        offsets = (bytes(ds.ExtendedOffsetTable), bytes(ds.ExtendedOffsetTableLengths))
    try:
        with warnings.catch_warnings():  # pydicom's warning about missing frames: ours follows
            warnings.simplefilter("ignore")
            cleaned = [
                strip_jpeg_comments(frame, syntax)
                for frame in generate_frames(ds.PixelData, number_of_frames=frames, extended_offsets=offsets)
            ]
    except Exception:
        cleaned = []
    if len(cleaned) != frames:
        raise RadiographError(
            source, "the compressed frames cannot be told apart (damaged pixel data): no copy was written"
        )
    return cleaned


def write_blinded_copy(
    source: str | os.PathLike[str], target: str | os.PathLike[str], *, case_code: str, key: bytes
) -> Path:
    """Write `target`: the film of `source` de-identified (see the module), private, whole or not at all.

    Raises RadiographError (ours) when the source cannot be read or the copy cannot be written.
    """
    src, out = Path(source), Path(target)
    ds, present = read_dataset(src)
    if not present:
        raise RadiographError(src, "the file holds no image to copy")
    copy = blinded_dataset(ds, case_code=case_code, key=key, source=src)
    try:
        # Private (0600) and whole or nothing: a full disk leaves no partial copy.
        with output_binary(out) as stream:
            copy.save_as(stream, enforce_file_format=True)
    except OutputFileError as exc:
        raise RadiographError(out, f"the copy could not be written ({exc.reason})") from None
    except OSError as exc:
        raise RadiographError(out, f"the copy could not be written ({exc.strerror or exc})") from None
    return out
