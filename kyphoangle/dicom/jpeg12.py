"""A pydicom decoding plugin for 12-bit JPEG Extended (Process 2 & 4, 1.2.840.10008.1.2.4.51), GPL-free.

Many CR and DX systems write 12-bit lossy JPEG. pydicom's GDCM and Pillow plugins refuse 12-bit
precision, and the only pydicom plugin that reads it (pylibjpeg-libjpeg) is GPL-licensed. imagecodecs
(BSD) wraps libjpeg-turbo 3, which decodes 8- and 12-bit JPEG, including the non-conforming
scan headers some older equipment writes; `register` adds it to pydicom's JPEG Extended decoder.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pydicom import uid

PLUGIN_LABEL = "imagecodecs"
"""The name of this plugin in pydicom's decoder."""

DECODER_DEPENDENCIES = {uid.JPEGExtended12Bit: ("imagecodecs",)}


def is_available(transfer_syntax: str) -> bool:
    """Whether imagecodecs is installed and `transfer_syntax` is JPEG Extended."""
    if transfer_syntax != uid.JPEGExtended12Bit:
        return False
    try:
        import imagecodecs  # noqa: F401
    except ImportError:
        return False
    return True


def _decode_frame(src: bytes, runner: Any) -> bytes:
    """Decode one JPEG frame to little-endian samples, interleaved when there are three."""
    import imagecodecs

    if runner.samples_per_pixel != 1:
        # Colour JPEG Extended is rare on radiographs; leave colour conversion rules to the other plugins.
        raise NotImplementedError("the imagecodecs plugin decodes grey JPEG Extended only")
    array = imagecodecs.jpeg8_decode(src)
    if array.ndim != 2:
        raise ValueError(f"the JPEG frame has {array.shape[2]} components; the header says 1")
    if runner.bits_allocated == 16:
        array = array.astype("<u2", copy=False)
    return bytes(array.tobytes())


def register() -> None:
    """Add the plugin to pydicom's JPEG Extended decoder (once)."""
    from pydicom.pixels.decoders.base import get_decoder

    decoder = get_decoder(uid.JPEGExtended12Bit)
    with contextlib.suppress(ValueError):  # already added
        decoder.add_plugin(PLUGIN_LABEL, ("kyphoangle.dicom.jpeg12", "_decode_frame"))
