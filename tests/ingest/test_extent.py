"""anno_core.extent: comparing where new points land with the table's, naming the mistake."""

from __future__ import annotations

import numpy as np
import pytest

from anno_core.ingest.extent import compare_bounds, compare_extents, reach

# A table's points in nm: about 1 mm in x, 0.8 mm in y, 1 mm in z
TABLE = ((100_000.0, 80_000.0, 600_000.0), (1_000_000.0, 800_000.0, 1_000_000.0))


def _scaled(extent, factor):
    f = np.asarray(factor, dtype=float)
    return tuple(tuple(np.asarray(corner) * f) for corner in extent)


def test_points_in_the_same_place_pass():
    check = compare_extents(_scaled(TABLE, (0.9, 1.1, 0.95)), TABLE)
    assert check is not None and check.ok and check.axes == ()
    assert "about as far" in check.message()


def test_a_small_part_of_the_volume_is_not_flagged():
    part = ((600_000.0, 400_000.0, 700_000.0), (620_000.0, 430_000.0, 720_000.0))
    assert compare_extents(part, TABLE).ok  # reaches as far from the origin, spreads less


def test_voxels_read_as_nm_are_named_with_the_fix():
    # the file holds 4, 4, 40 nm voxels but was read as nm: 4, 4 and 40 times too small
    new = _scaled(TABLE, (1 / 4, 1 / 4, 1 / 40))
    check = compare_extents(new, TABLE, file_resolution=(1, 1, 1), table_resolution=(4, 4, 40))
    assert check.axes == ("x", "y", "z")
    assert check.ratios == pytest.approx((0.25, 0.25, 0.025))
    assert check.likely == "these look like 4, 4, 40 nm voxels read as nm"
    assert check.resolution == (4.0, 4.0, 40.0)
    msg = check.message()
    assert msg.startswith(
        "The new points reach 4x less far than the table's points in x "
        "(250,000 nm against 1,000,000 nm)"
    )
    assert "40x less far in z (25,000 nm against 1,000,000 nm)" in msg
    assert msg.endswith("If so, choose 4, 4, 40 nm as the file's resolution.")


def test_nm_read_as_voxels_and_other_voxel_sizes():
    too_far = _scaled(TABLE, (4, 4, 40))
    check = compare_extents(too_far, TABLE, file_resolution=(4, 4, 40))
    assert check.likely == "these look like nm read as 4, 4, 40 nm voxels"
    assert check.resolution == (1.0, 1.0, 1.0)
    half = _scaled(TABLE, (0.5, 0.5, 1))  # 8, 8, 40 voxels read as 4, 4, 40 voxels
    check = compare_extents(half, TABLE, file_resolution=(4, 4, 40))
    assert check.axes == ("x", "y")
    assert check.likely == "these look like 8, 8, 40 nm voxels read as 4, 4, 40 nm voxels"


def test_swapped_axes_are_named():
    table = ((100_000.0, 80_000.0, 100_000.0), (3_000_000.0, 800_000.0, 300_000.0))
    new = ((100_000.0, 80_000.0, 100_000.0), (300_000.0, 800_000.0, 3_000_000.0))
    check = compare_extents(new, table)
    assert check.axes == ("x", "z") and check.swapped == ("x", "z")
    assert check.likely == "the x and z columns look swapped"
    assert "map the x column to z and the z column to x" in check.message()


def test_no_reading_explains_it_says_what_to_check():
    odd = _scaled(TABLE, (1, 1, 7))
    check = compare_extents(odd, TABLE, file_resolution=(4, 4, 40))
    assert check.axes == ("z",) and check.likely is None and check.resolution is None
    assert check.message() == (
        "The new points reach 7x further than the table's points in z (7,000,000 nm against "
        "1,000,000 nm). Check the file's resolution and which columns hold x, y and z; if "
        "the file covers another part of the volume, this is expected."
    )


def test_nothing_to_compare():
    assert compare_extents(None, TABLE) is None
    assert compare_extents(TABLE, None) is None
    flat = ((0.0, 0.0, 0.0), (0.0, 10.0, 10.0))  # every point at x = 0
    assert compare_extents(flat, TABLE) is None


def test_reach_is_the_largest_distance_from_the_origin():
    assert reach(((-50.0, 2.0, 3.0), (10.0, 4.0, 9.0))).tolist() == [50.0, 4.0, 9.0]


# hemibrain-like points in nm: about 35 x 35 x 40 um from the origin and beyond
HEMIBRAIN_NM = ((8_000.0, 80_000.0, 64_000.0), (280_000.0, 300_000.0, 340_000.0))


def test_hemibrain_voxels_read_as_4_4_40_are_named():
    # 8 nm voxels read as 4, 4, 40: x and y come out half as far, z five times further
    new = _scaled(HEMIBRAIN_NM, (0.5, 0.5, 5))
    check = compare_extents(
        new, HEMIBRAIN_NM, file_resolution=(4, 4, 40), against="the other tables' points"
    )
    assert check.resolution == (8.0, 8.0, 8.0)
    assert check.likely == "these look like 8, 8, 8 nm voxels read as 4, 4, 40 nm voxels"
    assert "than the other tables' points in x" in check.message()


def test_points_outside_an_admins_bounds_are_flagged_with_the_reading_that_fits():
    bounds = ((0.0, 0.0, 0.0), (320_000.0, 320_000.0, 360_000.0))
    inside = _scaled(HEMIBRAIN_NM, (0.2, 0.3, 0.5))  # a corner of the volume: fine
    assert compare_bounds(inside, bounds, file_resolution=(8, 8, 8)).ok
    new = _scaled(HEMIBRAIN_NM, (0.5, 0.5, 5))
    check = compare_bounds(new, bounds, file_resolution=(4, 4, 40), table_resolution=(4, 4, 40))
    assert check.axes == ("z",)
    assert check.resolution == (8.0, 8.0, 8.0)  # the largest usual reading that fits
    assert "than the aligned volume's bounds in z" in check.message()
    assert compare_bounds(new, None) is None
