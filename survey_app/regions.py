"""World regions for results: UN M49 sub-regions merged into ten groups that suit the ITP network.

The ITP's fellows come mostly from Africa, the Middle East, South and East Asia and Latin
America, so those are split finer than Europe or North America, where few fellows work.
Groups follow UN M49 sub-regions, except that "Middle East and North Africa" joins Western
Asia (minus the Caucasus and Cyprus, counted in Europe) with Northern Africa, as the ITP's
own programme reports do; Antarctica and uninhabited territories sit in "Other territories".
"""
from __future__ import annotations

from functools import lru_cache

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

# Region code -> name, translated where it is shown; codes are stable identifiers for URLs and exports.
REGION_NAMES: dict[str, LazyString] = {
    "east_asia": _l("East Asia"),
    "south_east_asia": _l("South-East Asia"),
    "south_asia": _l("South Asia"),
    "central_asia": _l("Central Asia"),
    "mena": _l("Middle East and North Africa"),
    "sub_saharan_africa": _l("Sub-Saharan Africa"),
    "europe": _l("Europe"),
    "north_america": _l("North America"),
    "latin_america": _l("Latin America and the Caribbean"),
    "oceania": _l("Oceania"),
    "other": _l("Other territories"),
}

_MEMBERS: dict[str, str] = {
    "east_asia": "CN HK JP KP KR MN MO TW",
    "south_east_asia": "BN ID KH LA MM MY PH SG TH TL VN",
    "south_asia": "AF BD BT IN IR LK MV NP PK",
    "central_asia": "KG KZ TJ TM UZ",
    "mena": "AE BH DZ EG EH IL IQ JO KW LB LY MA OM PS QA SA SD SY TN TR YE",
    "sub_saharan_africa": (
        "AO BF BI BJ BW CD CF CG CI CM CV DJ ER ET GA GH GM GN GQ GW KE KM LR LS MG ML MR MU MW MZ "
        "NA NE NG RE RW SC SH SL SN SO SS ST SZ TD TG TZ UG YT ZA ZM ZW IO"
    ),
    "europe": (
        "AD AL AM AT AX AZ BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GE GG GI GR HR HU IE IM IS IT "
        "JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK"
    ),
    "north_america": "BM CA GL PM US",
    "latin_america": (
        "AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GT GY HN HT JM KN KY "
        "LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI"
    ),
    "oceania": "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS CC CX",
    "other": "AQ BV GS HM TF",
}


@lru_cache(maxsize=1)
def region_map() -> dict[str, str]:
    """Country code (upper-case alpha-2) -> region code."""
    return {country: region for region, members in _MEMBERS.items() for country in members.split()}


def region_of(country: str | None) -> str | None:
    """Return the region code of a country, or None when the country is unknown or missing."""
    if not country:
        return None
    return region_map().get(country.upper())


def region_name(region: str | None) -> str:
    """The region's name in the current language (its code when it is not one of ours)."""
    return str(REGION_NAMES.get(region or "", region or ""))


def countries_in(regions: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Country codes that make up the given regions, for filtering responses by region in SQL."""
    wanted = set(regions)
    return sorted(country for country, region in region_map().items() if region in wanted)
