"""Where a customer is: geofences (a shapely STRtree) and beacon identities (Eddystone-EID)."""
