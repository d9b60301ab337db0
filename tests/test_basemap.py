"""The shipped world map answers 'over which place' for well-known points."""

from overflight.basemap import country_at, describe_place, nearest_city


def test_country_at() -> None:
    assert country_at(39.0425, 125.71) == "North Korea"
    assert country_at(41.9, 12.5) == "Italy"
    assert country_at(0.0, -150.0) is None


def test_nearest_city() -> None:
    city, dist = nearest_city(38.8977, -77.0365)
    assert "Washington" in city and dist < 10
    assert describe_place(0.0, -150.0).startswith("over water")
