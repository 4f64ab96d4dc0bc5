"""The release as a DCAT 3 catalogue in JSON-LD (W3C Data Catalog Vocabulary; DCAT-AP field names).

One dcat:Dataset per indicator, with titles and descriptions tagged es and en, its temporal and
spatial coverage, and one dcat:Distribution per download format of its main breakdown; and one for
the social conflict registry (when the release has one), a distribution per table and format.
"""

from __future__ import annotations

from typing import Any

from segura.portal.release import Release

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}
FORMATS = {"csv": ("text/csv", "CSV"), "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
           "parquet": ("application/vnd.apache.parquet", "PARQUET"),
           "sdmx-csv": ("application/vnd.sdmx.data+csv; version=2.0.0", "SDMX-CSV")}


def _lang(doc: dict[str, Any], key: str) -> list[dict[str, str]]:
    return [{"@value": str(doc[lang][key]), "@language": lang} for lang in ("es", "en") if doc[lang].get(key)]


def main_view(r: Release, indicator: str) -> str | None:
    """The finest territory x year breakdown the release publishes for `indicator`."""
    ids = [v for i, v in r.views if i == indicator]
    for level in reversed(r.meta["levels"][1:]):
        vid = f"territory+period.{level}.year"
        if vid in ids:
            return vid
    return "period.national.year" if "period.national.year" in ids else (ids[0] if ids else None)


def catalogue(r: Release, base: str, settings: Any) -> dict[str, Any]:
    cov = r.meta["coverage"]
    publisher = {"@type": "foaf:Organization", "foaf:name": r.meta["observatory"]}
    datasets = []
    for ind, doc in r.indicators.items():
        view = main_view(r, ind)
        if view is None:
            continue
        by, level, grain = view.split(".")
        params = "&".join([f"by={b}" for b in by.split("+") if b != "period"]
                          + ([f"level={level}"] if level != "national" else []) + [f"grain={grain}", f"release={r.id}"])
        distributions = [{
            "@type": "dcat:Distribution",
            "dct:title": f"{doc['en']['name']} ({label})",
            "dcat:downloadURL": {"@id": f"{base}/api/v1/indicators/{ind}/download?format={fmt}&{params}"},
            "dcat:accessURL": {"@id": f"{base}/api/v1/indicators/{ind}/values?{params}"},
            "dcat:mediaType": media,
            "dct:format": label,
            "dct:license": {"@id": settings["portal.license"]},
        } for fmt, (media, label) in FORMATS.items()]
        datasets.append({
            "@type": "dcat:Dataset",
            "@id": f"{base}/api/v1/indicators/{ind}?release={r.id}",
            "dct:identifier": ind,
            "dct:title": _lang(doc, "name"),
            "dct:description": _lang(doc, "definition"),
            "dcat:keyword": [k for k in ("citizen security", "crime statistics", doc["en"].get("sdg") and "SDG 16") if k],
            "dct:issued": {"@value": r.meta["published_at"], "@type": "xsd:dateTime"},
            "dct:spatial": {"@id": f"http://publications.europa.eu/resource/authority/country/{_iso3(r.meta['country'])}"},
            "dct:temporal": {"@type": "dct:PeriodOfTime",
                             "dcat:startDate": {"@value": f"{cov['from']}-01", "@type": "xsd:date"},
                             "dcat:endDate": {"@value": f"{cov['to']}-01", "@type": "xsd:date"}} if cov.get("from") else None,
            "dct:accrualPeriodicity": {"@id": "http://purl.org/cld/freq/monthly"},
            "dct:publisher": publisher,
            "dcat:distribution": distributions,
        })
    registry = _conflict_dataset(r, base, settings, publisher)
    if registry:
        datasets.append(registry)
    return {
        "@context": CONTEXT,
        "@type": "dcat:Catalog",
        "@id": f"{base}/api/v1/dcat?release={r.id}",
        "dct:title": [{"@value": f"{r.meta['observatory']}: datos abiertos", "@language": "es"},
                      {"@value": f"{r.meta['observatory']}: open data", "@language": "en"}],
        "dct:publisher": publisher,
        "dct:issued": {"@value": r.meta["published_at"], "@type": "xsd:dateTime"},
        "dct:language": [{"@id": "http://publications.europa.eu/resource/authority/language/SPA"},
                         {"@id": "http://publications.europa.eu/resource/authority/language/ENG"}],
        "dct:license": {"@id": settings["portal.license"]},
        "foaf:homepage": {"@id": f"{base}/"},
        "dcat:dataset": datasets,
    }


def _conflict_dataset(r: Release, base: str, settings: Any, publisher: dict[str, Any]) -> dict[str, Any] | None:
    """The social conflict registry as one dataset: a distribution per table and format, its sources cited."""
    from segura.conflicts.publication import TABLES
    from segura.portal.conflicts import TABLE_MEDIA, registry_of

    reg = registry_of(r)
    if reg is None:
        return None
    countries = sorted({c for s in reg.about["sources"] for c in s["countries"]})
    return {
        "@type": "dcat:Dataset",
        "@id": f"{base}/api/v1/conflicts?release={r.id}",
        "dct:identifier": "conflict_registry",
        "dct:title": [{"@value": "Registro de conflictos sociales", "@language": "es"},
                      {"@value": "Social conflict registry", "@language": "en"}],
        "dct:description": [
            {"@value": "Conflictos sociales con sus actores, demandas, eventos y respuestas del Estado, acuerdos y "
                       "compromisos, fases y una puntuación de escalada con sus partes.", "@language": "es"},
            {"@value": "Social conflicts with their actors, demands, events and the state's responses, agreements and "
                       "commitments, phases and an escalation score with its parts.", "@language": "en"}],
        "dcat:keyword": ["social conflict", "protest", "early warning"],
        "dct:issued": {"@value": r.meta["published_at"], "@type": "xsd:dateTime"},
        "dct:spatial": [{"@id": f"http://publications.europa.eu/resource/authority/country/{_iso3(c)}"}
                        for c in countries],
        "dct:source": [s["citation"] or s["name"] for s in reg.about["sources"]],
        "dct:publisher": publisher,
        "dcat:distribution": [{
            "@type": "dcat:Distribution",
            "dct:title": f"{table} ({fmt.upper()})",
            "dcat:downloadURL": {"@id": f"{base}/api/v1/conflicts/download?table={table}&format={fmt}&release={r.id}"},
            "dcat:mediaType": media.split(";")[0],
            "dct:format": fmt.upper(),
            "dct:license": {"@id": settings["portal.license"]},
        } for table in TABLES for fmt, media in TABLE_MEDIA.items()],
    }


def _iso3(alpha2: str) -> str:
    from segura.model.countries import alpha3

    return alpha3(alpha2)
