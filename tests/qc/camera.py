"""Synthetic microscopy sets from a camera model, written as real TIFF files.

A scene is Gaussian blobs (cells) times a smooth texture, scaled to [0, 1]. A camera
turns it into ADU: ``adu = gain·Poisson(photons·scene + dark) + offset + N(0, read)``,
rounded and clipped to ``[0, top]`` (``top`` defaults to the dtype's maximum; 4095
models a 12-bit sensor stored in uint16). Files are OME-TIFF (tifffile) with a pixel
size, channel names and, where asked, ``SignificantBits``.

Used by the synthetic-set tests (``test_qc_synthetic.py``) and ``bench/calibrate_qc.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import tifffile

SIZE = 128
PIXEL_SIZE = 0.1625


@dataclass(frozen=True)
class Camera:
    """One acquisition: photons at the brightest scene point, and the camera's response."""

    photons: float = 500.0
    dark: float = 2.0
    gain: float = 1.0
    offset: float = 100.0
    read: float = 2.0
    blur: float = 0.0
    top: float | None = None

    def scaled(self, a: float, b: float) -> Camera:
        """The same acquisition with the ADU scale multiplied by ``a`` and ``b`` added."""
        return replace(self, gain=self.gain * a, read=self.read * a, offset=self.offset * a + b)


def gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a 2D array (reflected edges), in float64."""
    radius = max(1, int(4 * sigma + 0.5))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    kernel /= kernel.sum()
    out = np.asarray(x, dtype=np.float64)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="symmetric")
        out = np.apply_along_axis(np.convolve, axis, padded, kernel, mode="valid")
    return out


def scene(seed: int, size: int = SIZE, blobs: int = 14) -> np.ndarray:
    """Blobs of radius ~3 px times a texture, in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    img = np.zeros((size, size))
    for _ in range(blobs):
        cy, cx = rng.uniform(0, size, 2)
        s = 3.0 * rng.uniform(0.7, 1.5)
        img += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    tex = gaussian_blur(rng.normal(size=(size, size)), 1.0)
    tex = (tex - tex.min()) / (tex.max() - tex.min())
    img *= 0.6 + 0.8 * tex
    return np.asarray(img / img.max())


def acquire(x: np.ndarray, cam: Camera, seed: int, dtype: str = "uint16") -> np.ndarray:
    """ADU of the scene ``x`` through ``cam``, rounded and clipped to the dtype (or ``top``)."""
    rng = np.random.default_rng(seed)
    if cam.blur:
        x = gaussian_blur(x, cam.blur)
    electrons = rng.poisson(cam.photons * np.clip(x, 0, None) + cam.dark)
    adu = cam.gain * electrons + cam.offset + rng.normal(0, cam.read, x.shape)
    if np.dtype(dtype).kind == "f":
        return np.asarray(adu, dtype=dtype)
    top = cam.top if cam.top is not None else np.iinfo(dtype).max
    return np.asarray(np.clip(np.round(adu), 0, top), dtype=dtype)


def write(
    path: Path,
    data: np.ndarray,
    *,
    axes: str = "YX",
    channels: list[str] | None = None,
    pixel_size: float = PIXEL_SIZE,
    bits: int | None = None,
) -> Path:
    """Write ``data`` as OME-TIFF with a pixel size, channel names and SignificantBits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta: dict[str, object] = {
        "axes": axes,
        "PhysicalSizeX": pixel_size,
        "PhysicalSizeY": pixel_size,
        "PhysicalSizeXUnit": "µm",
        "PhysicalSizeYUnit": "µm",
    }
    if channels:
        meta["Channel"] = {"Name": channels}
    if bits is not None:
        meta["SignificantBits"] = bits
    tifffile.imwrite(path, data, ome=True, metadata=meta)
    return path


def stack(seed: int, cam: Camera, blurs: list[float]) -> np.ndarray:
    """A Z stack of one scene, plane z blurred by ``blurs[z]`` (independent noise)."""
    x = scene(seed)
    planes = [acquire(x, replace(cam, blur=b), seed * 100 + z) for z, b in enumerate(blurs)]
    return np.stack(planes)


FOCUS_CURVE = [0.6 * abs(z - 6) for z in range(13)]
"""Blur per plane of a 13-plane stack focused at z = 6."""


def dataset(base: Path, a: float = 1.0, b: float = 0.0) -> dict[str, str]:
    """Write the synthetic set under ``base``; returns {relative path: planted problem}.

    Folders are QC groups: ``good/`` (30 good images and the planted 2D problems),
    ``bits/`` (12-bit data), ``float/``, ``channels/`` and one folder per Z stack.
    ``a`` and ``b`` rescale every camera (gain × a, offset·a + b).
    """
    planted: dict[str, str] = {}
    rng = np.random.default_rng(0)

    def cam(
        photons: float = 500.0, gain: float = 1.0, read: float = 2.0, blur: float = 0.0
    ) -> Camera:
        return Camera(photons=photons, gain=gain, read=read, blur=blur).scaled(a, b)

    def put(
        rel: str,
        problem: str,
        data: np.ndarray,
        *,
        axes: str = "YX",
        channels: list[str] | None = None,
        pixel_size: float = PIXEL_SIZE,
        bits: int | None = None,
    ) -> None:
        write(base / rel, data, axes=axes, channels=channels, pixel_size=pixel_size, bits=bits)
        planted[rel] = problem

    for i in range(30):
        photons = float(rng.uniform(300, 800))
        put(f"good/good{i:02d}.ome.tif", "", acquire(scene(i), cam(photons=photons), i))
    put("good/blur.ome.tif", "blurry", acquire(scene(101), cam(blur=3.0), 101))
    put("good/dark.ome.tif", "dark", acquire(scene(102), cam(photons=25.0), 102))
    put("good/empty.ome.tif", "empty", acquire(scene(103), cam(photons=0.0), 103))
    put("good/noisy.ome.tif", "noisy", acquire(scene(104), cam(gain=8.0, read=40.0), 104))
    put(
        "good/pixel.ome.tif",
        "pixel_size_mismatch",
        acquire(scene(105), cam(), 105),
        pixel_size=0.325,
    )
    twelve = Camera(photons=6000.0, top=4095.0)  # clipping is absolute by meaning: not rescaled
    put("bits/declared.ome.tif", "saturated", acquire(scene(106), twelve, 106), bits=12)
    put("bits/undeclared.ome.tif", "suspected_saturation", acquire(scene(107), twelve, 107))
    nan = acquire(scene(108), cam(), 108, dtype="float32")
    nan.ravel()[np.random.default_rng(1).permutation(nan.size)[: nan.size // 4]] = np.nan
    put("float/nan.ome.tif", "nan_heavy", nan)
    names = ["DAPI", "GFP"]
    for i in range(9):
        two = np.stack(
            [
                acquire(scene(200 + i), cam(), 200 + i),
                acquire(scene(300 + i), cam(photons=300.0), 300 + i),
            ]
        )
        swap = i == 8
        put(
            f"channels/c{i}.ome.tif",
            "channel_mismatch" if swap else "",
            two[::-1] if swap else two,
            axes="CYX",
            channels=names[::-1] if swap else names,
        )
    put("stack_mid/mid.ome.tif", "", stack(400, cam(), FOCUS_CURVE), axes="ZYX")
    put(
        "stack_cut/cut.ome.tif",
        "focus_peak_at_edge",
        stack(401, cam(), FOCUS_CURVE[:7]),
        axes="ZYX",
    )
    dup = stack(402, cam(), [0.0] * 13)
    dup[9] = dup[8]
    put("stack_dup/dup.ome.tif", "duplicate_plane", dup, axes="ZYX")
    return planted
