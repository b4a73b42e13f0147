"""The core columns: file information, row keys, the image header and the QC verdicts.

Every report has the file and key columns; image rows add the header columns a loader
fills; the merge adds the QC grouping and verdicts (producer ``qc``). Loader and
processor columns are declared in each plugin's metadata, not here.
"""

from __future__ import annotations

from pixel_patrol_base.table.columns import (
    COUNT,
    QC_PRODUCER,
    Aggregation,
    Column,
    Levels,
)


def _file_columns() -> list[Column]:
    return [
        Column(
            "path",
            "string",
            "File path relative to the base directory, '/'-separated.",
            nullable=False,
        ),
        Column(
            "child_id",
            "string",
            "Id of the image inside a container file (scene or series); null for a file "
            "that holds a single image or is not an image.",
        ),
        Column(
            "obs_level",
            "int16",
            "Granularity of the row: 0 is the whole image (or file); k >= 1 holds one row "
            "per combination of k non-spatial dimension indices.",
            nullable=False,
            bounds=COUNT,
        ),
        Column(
            "dim_<axis>",
            "int64",
            "Index along this axis that the row covers; null where the row spans the whole axis.",
            bounds=COUNT,
        ),
        Column("name", "string", "File name with its extension.", nullable=False),
        Column(
            "parent",
            "string",
            "Folder holding the file, relative to the base directory ('.' at the top).",
            nullable=False,
        ),
        Column(
            "depth",
            "int32",
            "Number of folders between the base directory and the file.",
            nullable=False,
            bounds=COUNT,
        ),
        Column(
            "file_extension",
            "string",
            "Lower-case extension without the dot; compound extensions such as 'ome.tif' "
            "count as one; '' when the name has none.",
            nullable=False,
        ),
        Column(
            "size_bytes",
            "int64",
            "Size on disk in bytes (the sum over all files for a folder-based format).",
            nullable=False,
            unit="B",
            bounds=COUNT,
        ),
        Column("modification_date", "timestamp", "Last modification time, UTC.", nullable=False),
        Column(
            "imported_path",
            "string",
            "Path the file was found under, relative to the base directory ('.' when no "
            "paths were added).",
            nullable=False,
        ),
        Column(
            "imported_path_short",
            "string",
            "Short, unambiguous label of imported_path, used as the default grouping.",
            nullable=False,
        ),
        Column(
            "type",
            "string",
            "Kind of entry: 'file', or 'directory' for a folder-based format (e.g. Zarr) "
            "that counts as one file.",
            nullable=False,
        ),
        Column(
            "load_error",
            "string",
            "One-line message when the file could not be opened or decoded; null otherwise.",
            levels=Levels.IMAGE,
        ),
        Column(
            "processor_errors",
            "list<string>",
            "Failures of single processors on this image, as 'processor-id: message'; "
            "their columns are null.",
            levels=Levels.IMAGE,
        ),
        Column(
            "path_bytes_b64",
            "string",
            "Base64 of the raw bytes of the path (relative to the base directory) when the "
            "file name is not valid UTF-8; path then shows each undecodable byte as \\xNN. "
            "os.path.join(os.fsencode(base_dir), base64.b64decode(path_bytes_b64)) is the "
            "file. Null for a name that is valid UTF-8.",
        ),
        Column(
            "load_warnings",
            "list<string>",
            "Warnings about the file or image that did not stop it from being listed and "
            "read, one line each; null when there is none. E.g. a file name that is not "
            "valid UTF-8; what bioio's plugin answered, or how its view departed from "
            "the file, when the format's own library read it instead (format_reader); an "
            "axis reported under another letter (a wavelength sweep as C, mosaic tiles as "
            "T, an XZ scan's Z as Y); a scene split into images.",
            levels=Levels.IMAGE,
        ),
    ]


def _header_columns() -> list[Column]:
    return [
        Column(
            "dim_order",
            "string",
            "Axes of the image in canonical order: T, C, Z, Y, X, S (S = samples, e.g. "
            "RGB), then the further axes it stores, E (wavelength), H (phase, e.g. "
            "Airyscan detector elements), M (mosaic tiles), V, I, R, A, P, L, Q.",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "size_<axis>",
            "int64",
            "Extent of the row along this axis (the whole image at obs_level 0, 1 for a "
            "fixed index).",
            producer="loader",
            bounds=COUNT,
        ),
        Column(
            "num_pixels",
            "int64",
            "Number of pixels the row covers (product of its sizes).",
            producer="loader",
            aggregation=Aggregation.SUM,
            bounds=COUNT,
        ),
        Column(
            "shape",
            "list<int64>",
            "Shape of the image in dim_order.",
            producer="loader",
            levels=Levels.IMAGE,
            bounds=COUNT,
        ),
        Column(
            "ndim",
            "int16",
            "Number of dimensions of the image.",
            producer="loader",
            levels=Levels.IMAGE,
            bounds=COUNT,
        ),
        Column(
            "dtype",
            "string",
            "NumPy data type of the pixels (e.g. 'uint16').",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "n_images",
            "int32",
            "Number of images (scenes or series) in the file this row comes from.",
            producer="loader",
            levels=Levels.IMAGE,
            bounds=COUNT,
        ),
        Column(
            "pixel_size_<axis>",
            "float64",
            "Physical size of one pixel along this axis, in pixel_size_unit.",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "pixel_size_unit",
            "string",
            "Unit of the pixel_size_* columns (e.g. 'µm').",
            producer="loader",
            levels=Levels.IMAGE,
        ),
        Column(
            "channel_names",
            "list<string>",
            "Channel names from the file metadata.",
            producer="loader",
            levels=Levels.IMAGE,
        ),
    ]


def _qc_columns() -> list[Column]:
    return [
        Column(
            "top_folder",
            "string",
            "First folder of path below the base directory ('.' for a file at the top "
            "level); the default QC grouping when no paths were added.",
            producer=QC_PRODUCER,
            nullable=False,
        ),
        Column(
            "qc_status",
            "string",
            "QC verdict of the row: 'pass', 'warn', 'fail' or 'error' (a rule that could "
            "not be evaluated), the worst over every rule; an image row also shows the "
            "worst of its slices' verdicts. Judged after the merge by the rules engine "
            "(built-in rules plus --expect), from the table alone.",
            producer=QC_PRODUCER,
            nullable=False,
        ),
        Column(
            "qc_issues",
            "list<string>",
            "Ids of the QC rules that did not pass on the row (e.g. 'nan_heavy', "
            "'saturated'), in rule order; empty when qc_status is 'pass'.",
            producer=QC_PRODUCER,
            nullable=False,
        ),
        Column(
            "qc_levels",
            "list<string>",
            "One verdict per entry of qc_issues, in the same order: 'warn', 'fail' or "
            "'error', the rule's own (qc_status is the worst of them and of the slices'), "
            "so a warn rule on a failing image still reads 'warn'.",
            producer=QC_PRODUCER,
            nullable=False,
        ),
        Column(
            "qc_messages",
            "list<string>",
            "One message per entry of qc_issues, in the same order, saying what was found "
            "(e.g. 'nan_heavy: nan_fraction = 0.25').",
            producer=QC_PRODUCER,
            nullable=False,
        ),
        *_duplicate_columns(),
    ]


def _duplicate_columns() -> list[Column]:
    return [
        Column(
            "duplicate_set",
            "string",
            "Id of the duplicate set the row is in ('dup-' and 12 hex digits, derived from "
            "the members' paths, child ids and plane indices, so stable across runs); null "
            "when the row duplicates nothing. Found at the merge from the raster-hash "
            "columns; 'pixel-patrol duplicates REPORT' lists the sets.",
            producer=QC_PRODUCER,
        ),
        Column(
            "duplicate_kind",
            "string",
            "Kind of the row's duplicate set: 'exact' (images with equal content_hash: the "
            "same dtype, shape and pixels, whatever the format), 'near' (images whose phash "
            "differ in at most 6 of 64 bits and whose signatures correlate at 0.95 or more, "
            "linked transitively; empty images are never near duplicates) or 'plane' "
            "(planes of one image with equal plane_hash, or plane_noise_distance below 0.5 "
            "against the previous plane); null outside sets.",
            producer=QC_PRODUCER,
        ),
        Column(
            "duplicate_of",
            "string",
            "Path of the set's first member (by path, child id, then plane indices): the "
            "copy the others duplicate; null outside sets.",
            producer=QC_PRODUCER,
        ),
    ]


CORE_COLUMNS: tuple[Column, ...] = (*_file_columns(), *_header_columns(), *_qc_columns())
"""The columns every report has: file information, row keys, the image header, and the
QC verdicts and grouping the merge adds (producer ``qc``; not required of a report)."""
