"""Geofences: validation of what an admin sends, and the index a check-in is looked up in.

A fence is a circle ``{"center": [lon, lat], "radius_m": r}`` or a GeoJSON Polygon. The index is
a shapely STRtree over bounding boxes built once per warm process: a point's candidates come from
the tree, circles are then judged by geodesic distance (never a buffer in degrees), polygons by
``covers``. Among the fences that hold the point the nearest wins.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import DomainRefusal
from chalicelib.geo.distance import METRES_PER_DEGREE_LAT, degrees_around, haversine_m

if TYPE_CHECKING:  # shapely (with numpy) is imported where a fence is built or looked up, not on
    # every cold start: most of the API's requests never touch a fence.
    from shapely.geometry import Polygon

MIN_RADIUS_M = 10
MAX_RADIUS_M = 5_000
#: A polygon wider than this is not a store's surroundings but a mistake (a city, a country).
MAX_POLYGON_EXTENT_M = 10_000
#: A fix is trusted only if its accuracy circle is at most this many times the fence's size.
ACCURACY_FACTOR = 2.0
#: ...and a fix at least this good is always precise enough for any fence.
ACCURACY_FLOOR_M = 50.0


class InvalidGeofence(DomainRefusal):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field, code="invalid_geofence")


@dataclass(frozen=True)
class Fence:
    store_id: str
    #: Circle: center and radius. Polygon: its shape, and a center for "nearest" (centroid).
    center_lon: float
    center_lat: float
    radius_m: float | None = None
    polygon: Polygon | None = None

    @property
    def size_m(self) -> float:
        """The fence's characteristic radius (a polygon's: that of a circle of its area)."""
        if self.radius_m is not None:
            return self.radius_m
        assert self.polygon is not None
        lat_scale = METRES_PER_DEGREE_LAT
        lon_scale = METRES_PER_DEGREE_LAT * math.cos(math.radians(self.center_lat))
        return math.sqrt(self.polygon.area * lat_scale * lon_scale / math.pi)


def fence_from_geojson(store_id: str, geofence: Mapping[str, Any], field: str = "geofence") -> Fence:
    """A validated fence, or :class:`InvalidGeofence` naming the field at fault."""
    if "center" in geofence or "radius_m" in geofence:
        lon, lat = _position(geofence.get("center"), f"{field}.center")
        radius = geofence.get("radius_m")
        if isinstance(radius, bool) or not isinstance(radius, int | float) or not math.isfinite(radius):
            raise InvalidGeofence(f"{field}.radius_m", "must be a number of metres")
        if not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
            raise InvalidGeofence(f"{field}.radius_m", f"must be between {MIN_RADIUS_M} m and {MAX_RADIUS_M} m")
        return Fence(store_id, lon, lat, radius_m=float(radius))
    if geofence.get("type") != "Polygon":
        raise InvalidGeofence(field, "must be {center: [lon, lat], radius_m} or a GeoJSON Polygon")
    rings = geofence.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise InvalidGeofence(f"{field}.coordinates", "a Polygon needs at least its outer ring")
    parsed = []
    for r, ring in enumerate(rings):
        where = f"{field}.coordinates.{r}"
        if not isinstance(ring, list) or len(ring) < 4:
            raise InvalidGeofence(where, "a ring needs at least 4 positions (the first repeated last)")
        points = [_position(p, f"{where}.{i}") for i, p in enumerate(ring)]
        if points[0] != points[-1]:
            raise InvalidGeofence(where, "a ring must be closed: its last position repeats its first")
        if any(abs(a[0] - b[0]) > 180 for a, b in itertools.pairwise(points)):
            raise InvalidGeofence(where, "crosses the antimeridian: split it in two fences")
        parsed.append(points)
    import shapely

    polygon = shapely.Polygon(parsed[0], parsed[1:])
    if not polygon.is_valid or polygon.area == 0:
        raise InvalidGeofence(f"{field}.coordinates", f"not a valid polygon ({shapely.is_valid_reason(polygon)})")
    minx, miny, maxx, maxy = polygon.bounds
    if haversine_m(minx, miny, maxx, maxy) > MAX_POLYGON_EXTENT_M:
        raise InvalidGeofence(
            f"{field}.coordinates", f"wider than {MAX_POLYGON_EXTENT_M // 1000} km: not a store's area"
        )
    centroid = polygon.centroid
    return Fence(store_id, centroid.x, centroid.y, polygon=polygon)


def _position(value: Any, field: str) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    ):
        raise InvalidGeofence(field, "must be [longitude, latitude]")
    lon, lat = float(value[0]), float(value[1])
    if not -180 <= lon <= 180:
        raise InvalidGeofence(field, "longitude must be between -180 and 180")
    if not -90 <= lat <= 90:
        raise InvalidGeofence(field, "latitude must be between -90 and 90")
    return lon, lat


@dataclass(frozen=True)
class Match:
    store_id: str
    distance_m: float


class GeofenceIndex:
    """Built once per warm process from the stores' fences; rebuilt when they change."""

    def __init__(self, fences: Iterable[Fence]) -> None:
        from shapely import STRtree

        self._fences: list[Fence] = []
        boxes = []
        for fence in fences:
            for bbox in _boxes(fence):
                self._fences.append(fence)
                boxes.append(bbox)
        self._tree = STRtree(boxes) if boxes else None

    def __len__(self) -> int:
        return len({f.store_id for f in self._fences})

    def center_of(self, store_id: str) -> tuple[float, float] | None:
        """(lon, lat) of a store's fence: where a beacon check-in is taken to be."""
        for fence in self._fences:
            if fence.store_id == store_id:
                return fence.center_lon, fence.center_lat
        return None

    def locate(self, lon: float, lat: float, accuracy_m: float | None = None) -> Match | None:
        """The nearest fence holding the point (ties: the lower store id), if the fix is precise
        enough for that fence."""
        if self._tree is None:
            return None
        from shapely import Point

        best: Match | None = None
        for i in self._tree.query(Point(lon, lat)):
            fence = self._fences[int(i)]
            distance = haversine_m(lon, lat, fence.center_lon, fence.center_lat)
            if fence.radius_m is not None:
                inside = distance <= fence.radius_m
            else:
                assert fence.polygon is not None
                inside = fence.polygon.covers(Point(lon, lat))
            if not inside or not _precise_enough(accuracy_m, fence):
                continue
            if best is None or (distance, fence.store_id) < (best.distance_m, best.store_id):
                best = Match(fence.store_id, distance)
        return best

    def locate_naive(self, lon: float, lat: float, accuracy_m: float | None = None) -> Match | None:
        """The same answer by testing every fence (for the benchmark and as a test oracle)."""
        from shapely import Point

        best: Match | None = None
        seen = set()
        for fence in self._fences:
            if id(fence) in seen:
                continue
            seen.add(id(fence))
            distance = haversine_m(lon, lat, fence.center_lon, fence.center_lat)
            inside = (
                distance <= fence.radius_m
                if fence.radius_m is not None
                else bool(fence.polygon is not None and fence.polygon.covers(Point(lon, lat)))
            )
            if (
                inside
                and _precise_enough(accuracy_m, fence)
                and (best is None or (distance, fence.store_id) < (best.distance_m, best.store_id))
            ):
                best = Match(fence.store_id, distance)
        return best


def _precise_enough(accuracy_m: float | None, fence: Fence) -> bool:
    return accuracy_m is None or accuracy_m <= max(ACCURACY_FLOOR_M, ACCURACY_FACTOR * fence.size_m)


def _boxes(fence: Fence) -> list[Polygon]:
    """The fence's bounding box in degrees; two boxes when a circle reaches over the antimeridian."""
    from shapely import box

    if fence.polygon is not None:
        return [box(*fence.polygon.bounds)]
    assert fence.radius_m is not None
    dlon, dlat = degrees_around(fence.center_lat, fence.radius_m)
    south, north = max(-90.0, fence.center_lat - dlat), min(90.0, fence.center_lat + dlat)
    west, east = fence.center_lon - dlon, fence.center_lon + dlon
    if dlon >= 180 or (west < -180 and east > 180):
        return [box(-180, south, 180, north)]
    if west < -180:
        return [box(west + 360, south, 180, north), box(-180, south, east, north)]
    if east > 180:
        return [box(west, south, 180, north), box(-180, south, east - 360, north)]
    return [box(west, south, east, north)]
