"""Names of the countries Segura's users are in (ISO 3166-1 alpha-2), for a workspace's country row."""

COUNTRY_NAMES: dict[str, str] = {
    "MX": "México", "GT": "Guatemala", "HN": "Honduras", "SV": "El Salvador", "NI": "Nicaragua",
    "CR": "Costa Rica", "PA": "Panamá", "BZ": "Belice", "DO": "República Dominicana", "CO": "Colombia",
    "EC": "Ecuador", "PE": "Perú", "BO": "Bolivia", "CL": "Chile", "AR": "Argentina", "UY": "Uruguay",
    "PY": "Paraguay", "BR": "Brasil", "VE": "Venezuela", "JM": "Jamaica", "TT": "Trinidad y Tobago",
    "HT": "Haití", "CU": "Cuba",
}
