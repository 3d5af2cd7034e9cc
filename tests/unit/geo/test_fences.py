import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.geo.distance import METRES_PER_DEGREE_LAT, haversine_m
from chalicelib.geo.fences import Fence, GeofenceIndex, InvalidGeofence, fence_from_geojson


def north_of(lon, lat, metres):
    return lon, lat + metres / METRES_PER_DEGREE_LAT


def east_of(lon, lat, metres):
    return lon + metres / (METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))), lat


def circle(store_id, lon, lat, radius_m):
    return fence_from_geojson(store_id, {"center": [lon, lat], "radius_m": radius_m})


BERLIN = (13.4016, 52.5303)
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[13.4120, 52.5200], [13.4140, 52.5200], [13.4140, 52.5212], [13.4120, 52.5212], [13.4120, 52.5200]]
    ],
}


def test_a_point_85_m_from_a_100_m_circle_is_in_and_130_m_is_out():
    index = GeofenceIndex([circle("s1", *BERLIN, 100)])
    assert index.locate(*north_of(*BERLIN, 85)).store_id == "s1"
    assert index.locate(*east_of(*BERLIN, 85)).store_id == "s1"
    assert index.locate(*north_of(*BERLIN, 130)) is None
    assert index.locate(*east_of(*BERLIN, 130)) is None


def test_polygon_edges_and_corners_count_as_inside():
    index = GeofenceIndex([fence_from_geojson("alex", SQUARE)])
    assert index.locate(13.4130, 52.5206).store_id == "alex"
    assert index.locate(13.4120, 52.5206).store_id == "alex"  # on the west edge
    assert index.locate(13.4140, 52.5212).store_id == "alex"  # a corner
    assert index.locate(13.41401, 52.5206) is None


def test_a_point_in_two_fences_goes_to_the_nearest_store():
    near = circle("near", *BERLIN, 200)
    far = circle("far", *north_of(*BERLIN, 150), 300)
    index = GeofenceIndex([far, near])
    assert index.locate(*north_of(*BERLIN, 50)).store_id == "near"
    assert index.locate(*north_of(*BERLIN, 120)).store_id == "far"


def test_a_vague_fix_does_not_check_in():
    index = GeofenceIndex([circle("s1", *BERLIN, 60)])
    assert index.locate(*BERLIN, accuracy_m=40).store_id == "s1"
    assert index.locate(*BERLIN, accuracy_m=120).store_id == "s1"
    assert index.locate(*BERLIN, accuracy_m=500) is None


def test_circles_across_the_antimeridian_are_found_on_both_sides():
    fence = circle("fiji", 179.9995, -17.7, 300)
    index = GeofenceIndex([fence])
    west_side = (-179.9990, -17.7)  # about 160 m east of the center, over the line
    assert haversine_m(179.9995, -17.7, *west_side) < 300
    assert index.locate(*west_side).store_id == "fiji"
    assert index.locate(179.9975, -17.7).store_id == "fiji"
    assert index.locate(-179.99, -17.7) is None


def test_high_latitudes_measure_longitude_in_metres_not_degrees():
    lon, lat = 25.7, 78.2  # Longyearbyen: a degree of longitude is ~22 km
    index = GeofenceIndex([circle("svalbard", lon, lat, 100)])
    assert index.locate(*east_of(lon, lat, 90)).store_id == "svalbard"
    assert index.locate(*east_of(lon, lat, 120)) is None


@pytest.mark.parametrize(
    ("geofence", "field"),
    [
        ({"center": [13.4, 52.5], "radius_m": 5}, "geofence.radius_m"),
        ({"center": [13.4, 52.5], "radius_m": 50_000}, "geofence.radius_m"),
        ({"center": [13.4, 52.5], "radius_m": "100"}, "geofence.radius_m"),
        ({"center": [200, 52.5], "radius_m": 100}, "geofence.center"),
        ({"center": [13.4, 95], "radius_m": 100}, "geofence.center"),
        ({"center": [13.4], "radius_m": 100}, "geofence.center"),
        ({"type": "Point", "coordinates": [13.4, 52.5]}, "geofence"),
        ({"type": "Polygon", "coordinates": []}, "geofence.coordinates"),
        (
            {"type": "Polygon", "coordinates": [[[13.41, 52.52], [13.42, 52.52], [13.42, 52.53]]]},
            "geofence.coordinates.0",
        ),
        (
            {"type": "Polygon", "coordinates": [[[13.41, 52.52], [13.42, 52.52], [13.42, 52.53], [13.41, 52.53]]]},
            "geofence.coordinates.0",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[13.41, 52.52], [13.42, 52.53], [13.42, 52.52], [13.41, 52.53], [13.41, 52.52]]],
            },
            "geofence.coordinates",
        ),
        (
            {"type": "Polygon", "coordinates": [[[13, 52], [14, 52], [14, 53], [13, 53], [13, 52]]]},
            "geofence.coordinates",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[179.99, 0], [-179.99, 0], [-179.99, 0.01], [179.99, 0.01], [179.99, 0]]],
            },
            "geofence.coordinates.0",
        ),
    ],
    ids=[
        "tiny-radius",
        "huge-radius",
        "radius-text",
        "lon-range",
        "lat-range",
        "short-center",
        "point",
        "no-rings",
        "three-positions",
        "not-closed",
        "self-crossing",
        "a-city",
        "antimeridian",
    ],
)
def test_bad_geofences_are_refused_naming_the_field(geofence, field):
    with pytest.raises(InvalidGeofence) as refused:
        fence_from_geojson("s", geofence)
    assert refused.value.field == field


@given(
    st.lists(st.tuples(st.floats(-179, 179), st.floats(-70, 70), st.integers(10, 5000)), min_size=1, max_size=30),
    st.floats(-179, 179),
    st.floats(-70, 70),
    st.one_of(st.none(), st.floats(1, 3000)),
)
def test_the_index_answers_what_a_loop_over_every_fence_answers(circles, lon, lat, accuracy):
    fences = [Fence(f"s{i}", c_lon, c_lat, radius_m=r) for i, (c_lon, c_lat, r) in enumerate(circles)]
    # Put the point inside some fence often, not only by chance.
    index = GeofenceIndex(fences)
    for point in ((lon, lat), (fences[0].center_lon, fences[0].center_lat)):
        assert index.locate(*point, accuracy) == index.locate_naive(*point, accuracy)
