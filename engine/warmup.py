"""One-time start-up costs of extraction, paid once before batch workers fork.

The batch runner's forkserver imports this module (``set_forkserver_preload``):
it runs :func:`warm`, so that the pHash kernels are compiled or loaded from
numba's cache, and the Pillow plugins are imported, *once* in the server
process. Every worker forked from it inherits that state, instead of spending
the ~0.5 s on its first file (and again after each worker replacement).

Importing it anywhere else works too; it only costs that time once.
"""

from __future__ import annotations

import io


def warm() -> bool:
    """Extract a few tiny in-memory images (JPEG, PNG with alpha), with pHash.

    Returns ``True`` when that worked; never raises (a broken extractor shows up
    in the batch records instead).

    Examples
    --------
    >>> warm()
    True
    """
    try:
        from PIL import Image

        from .metadata import extract

        for fmt, mode in (("JPEG", "RGB"), ("PNG", "RGBA")):
            buf = io.BytesIO()
            Image.new(mode, (40, 30), (10, 20, 30, 128)[: len(mode)]).save(buf, fmt)
            extract(buf.getvalue(), phash=True)
        return True
    except Exception:  # noqa: BLE001
        return False


WARM = warm()
