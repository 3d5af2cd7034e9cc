"""Distances on the sphere, in metres (haversine: within 0.6% of WGS84 at store scale)."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def degrees_around(lat: float, radius_m: float) -> tuple[float, float]:
    """Half-widths (lon, lat) in degrees of a box that holds a circle of ``radius_m`` at ``lat``;
    the longitude span grows towards the poles (a degree of longitude shrinks), capped at 180."""
    dlat = radius_m / METRES_PER_DEGREE_LAT
    cos_lat = math.cos(math.radians(min(89.999, abs(lat) + dlat)))
    dlon = min(180.0, radius_m / (METRES_PER_DEGREE_LAT * cos_lat))
    return dlon, dlat
