"""Names of the countries Segura's users are in (ISO 3166-1 alpha-2), for a workspace's country row."""

COUNTRY_NAMES: dict[str, str] = {
    "MX": "México", "GT": "Guatemala", "HN": "Honduras", "SV": "El Salvador", "NI": "Nicaragua",
    "CR": "Costa Rica", "PA": "Panamá", "BZ": "Belice", "DO": "República Dominicana", "CO": "Colombia",
    "EC": "Ecuador", "PE": "Perú", "BO": "Bolivia", "CL": "Chile", "AR": "Argentina", "UY": "Uruguay",
    "PY": "Paraguay", "BR": "Brasil", "VE": "Venezuela", "JM": "Jamaica", "TT": "Trinidad y Tobago",
    "HT": "Haití", "CU": "Cuba",
}

# ISO 3166-1 alpha-3, for vocabularies that name countries so (the EU country authority table of DCAT-AP)
ALPHA3: dict[str, str] = {
    "MX": "MEX", "GT": "GTM", "HN": "HND", "SV": "SLV", "NI": "NIC", "CR": "CRI", "PA": "PAN", "BZ": "BLZ",
    "DO": "DOM", "CO": "COL", "EC": "ECU", "PE": "PER", "BO": "BOL", "CL": "CHL", "AR": "ARG", "UY": "URY",
    "PY": "PRY", "BR": "BRA", "VE": "VEN", "JM": "JAM", "TT": "TTO", "HT": "HTI", "CU": "CUB",
}


def alpha3(alpha2: str) -> str:
    return ALPHA3.get(alpha2.upper(), alpha2.upper())
