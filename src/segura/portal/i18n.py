"""The portal's words in Spanish and English, and numbers and dates written the way each reads them.

Numbers: Spanish uses a comma for decimals and a thin space between thousands (as the RAE and
ISO 80000 recommend), English a point and commas. Dates are ISO 8601 (2015-03, 2015-Q2).
"""

from __future__ import annotations

import math
from typing import Any

LANGS = ("es", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "skip": ("Saltar al contenido", "Skip to content"),
    "home": ("Inicio", "Home"),
    "indicators": ("Indicadores", "Indicators"),
    "query": ("Consulta", "Query builder"),
    "quality": ("Calidad de datos", "Data quality"),
    "downloads": ("Descargas y API", "Downloads and API"),
    "releases": ("Publicaciones", "Releases"),
    "admin": ("Administración", "Administration"),
    "other_lang": ("English", "Español"),
    "other_lang_name": ("Read in English", "Leer en español"),
    "as_published": ("Según lo publicado el {date} (publicación {id})", "As published on {date} (release {id})"),
    "coverage": ("Datos de {start} a {end}; fuentes: {sources}.", "Data from {start} to {end}; sources: {sources}."),
    "home_title": ("Seguridad ciudadana en cifras", "Citizen security in figures"),
    "home_lead": ("Indicadores unificados de las instituciones, conciliados víctima por víctima, con control de divulgación.",
                  "Unified indicators from every institution, reconciled victim by victim, with disclosure control."),
    "last_year_today": ("Cómo estaba el año pasado y cómo está hoy", "How it looked last year and how it looks today"),
    "change": ("cambio", "change"),
    "significant": ("cambio significativo (p < 0,05)", "significant change (p < 0.05)"),
    "not_significant": ("sin cambio significativo", "no significant change"),
    "open": ("Abrir", "Open"),
    "period": ("Periodo", "Period"),
    "territory": ("Territorio", "Territory"),
    "level": ("Nivel territorial", "Territory level"),
    "grain": ("Periodicidad", "Period grain"),
    "year": ("Año", "Year"), "quarter": ("Trimestre", "Quarter"), "month": ("Mes", "Month"),
    "national": ("Nacional", "National"), "country": ("País", "Country"),
    "admin1": ("Estado", "State"), "admin2": ("Municipio", "Municipality"),
    "value": ("Valor", "Value"), "interval": ("Intervalo 95 %", "95% interval"),
    "count": ("Casos", "Count"), "status": ("Estado del dato", "Status"),
    "smoothed": ("Tasa suavizada (bayes empírico local)", "Smoothed rate (local empirical Bayes)"),
    "definition": ("Definición", "Definition"), "method": ("Método", "Method"), "source": ("Fuente", "Source"),
    "unit": ("Unidad", "Unit"), "sdg": ("ODS", "SDG"),
    "chart_over_time": ("Evolución en el tiempo", "Over time"),
    "map_title": ("Mapa por municipio, {period}", "Map by municipality, {period}"),
    "map_hint": ("Pase el cursor o enfoque un municipio para ver su valor; haga clic para abrir su perfil.",
                 "Hover or focus a municipality to see its value; click to open its profile."),
    "legend": ("Leyenda", "Legend"),
    "suppressed": ("Confidencial (C): menos casos que el umbral de divulgación", "Confidential (C): fewer cases than the disclosure threshold"),
    "no_data": ("Sin dato", "No data"),
    "table": ("Tabla", "Table"),
    "by_sex": ("Por sexo", "By sex"), "by_age": ("Por edad", "By age"),
    "by_dim": ("Por {dim}", "By {dim}"),
    "show": ("Mostrar", "Show"),
    "profile": ("Perfil territorial", "Territory profile"),
    "profile_lead": ("Cada indicador de {name} frente a {parent} y el país, en el último año completo ({year}).",
                     "Every indicator of {name} against {parent} and the country, in the last full year ({year})."),
    "trend": ("Tendencia", "Trend"),
    "indicator": ("Indicador", "Indicator"),
    "measure": ("Medida (indicador)", "Measure (indicator)"),
    "dimensions": ("Dimensiones", "Dimensions"),
    "filters": ("Filtros", "Filters"),
    "from": ("Desde", "From"), "to": ("Hasta", "To"),
    "all": ("Todos", "All"),
    "run_query": ("Consultar", "Run query"),
    "result": ("Resultado", "Result"),
    "rows": ("{n} filas", "{n} rows"),
    "download": ("Descargar", "Download"),
    "query_lead": ("Elija una medida, sus dimensiones y filtros. Solo se ofrecen los cruces que el control de divulgación publica.",
                   "Choose a measure, its dimensions and filters. Only the breakdowns disclosure control publishes are offered."),
    "quality_lead": ("Registros de víctimas de cada institución frente a las víctimas únicas después de la conciliación, por mes.",
                     "Each institution's victim records against the unique victims after reconciliation, by month."),
    "reconciled": ("Víctimas conciliadas", "Reconciled victims"),
    "records_of": ("Registros: {source}", "Records: {source}"),
    "share_reconciled": ("% conciliado", "% reconciled"),
    "downloads_lead": ("Cada indicador en CSV, XLSX, Parquet y SDMX-CSV, el catálogo DCAT y la API REST.",
                       "Every indicator as CSV, XLSX, Parquet and SDMX-CSV, the DCAT catalogue and the REST API."),
    "api_docs": ("Documentación de la API", "API documentation"),
    "endpoint": ("Ruta", "Endpoint"), "parameters": ("Parámetros", "Parameters"),
    "releases_lead": ("Cada publicación es inmutable: una cifra se puede citar según lo publicado en una fecha.",
                      "Every release is immutable: a figure can be cited as published on a date."),
    "compare": ("Comparar", "Compare"), "changes_between": ("Cambios entre {a} y {b}", "Changes between {a} and {b}"),
    "changed": ("cambiadas", "changed"), "added": ("nuevas", "added"), "removed": ("retiradas", "removed"),
    "no_changes": ("Sin cambios.", "No changes."),
    "before": ("Antes", "Before"), "after": ("Después", "After"),
    "published_at": ("Publicada", "Published"),
    "login": ("Iniciar sesión", "Sign in"), "logout": ("Cerrar sesión", "Sign out"),
    "username": ("Usuario", "User name"), "password": ("Contraseña", "Password"),
    "bad_login": ("Usuario o contraseña incorrectos.", "Wrong user name or password."),
    "loads": ("Estado de las cargas", "Load status"),
    "review_queue": ("Cola de revisión de la conciliación", "Reconciliation review queue"),
    "warehouse_busy": ("El almacén está en uso por una carga; vuelva a intentarlo en unos minutos.",
                       "The warehouse is busy with a load; try again in a few minutes."),
    "signed_in_as": ("Sesión de {user} ({role})", "Signed in as {user} ({role})"),
    "users": ("Usuarios", "Users"), "role": ("Rol", "Role"),
    "not_found": ("No encontrado", "Not found"),
    "error": ("Error", "Error"),
    "unavailable": ("Este cruce no se publica", "This breakdown is not published"),
    "footer": ("Segura, sistema de información de seguridad ciudadana. Datos abiertos bajo {license}.",
               "Segura, citizen security information system. Open data under {license}."),
    "total": ("Total", "Total"),
    "map_layer": ("Capa del mapa", "Map layer"),
    "layer_value": ("Valor", "Value"),
    "layer_gi_star": ("Puntos calientes y fríos (Gi*), {year}", "Hot and cold spots (Gi*), {year}"),
    "layer_local_moran": ("Conglomerados (Moran local), {year}", "Clusters (Local Moran), {year}"),
    "layer_emerging": ("Puntos calientes emergentes, por mes", "Emerging hot spots, by month"),
    "layer_deviance": ("Desviación positiva (frente a lo esperado por sus condiciones), {year}",
                       "Positive deviance (against what its conditions predict), {year}"),
    "layer_note_deviance": ("Modelo binomial negativo con la población como exposición y las condiciones del "
                            "municipio; intervalo de predicción de 95 %.",
                            "Negative binomial model with population as exposure and the municipality's "
                            "conditions; 95% prediction interval."),
    "layer_note_emerging": ("Gi* en espacio y tiempo (contigüidad reina y el mes anterior), tasa de falsos "
                            "descubrimientos 5 %, tendencia de Mann-Kendall; categorías de ArcGIS Pro.",
                            "Gi* in space and time (queen contiguity and the previous month), false discovery rate "
                            "5%, Mann-Kendall trend; the categories of ArcGIS Pro."),
    "layer_note": ("Calculados sobre la tasa suavizada (bayes empírico local), 999 permutaciones, tasa de falsos "
                   "descubrimientos 5 %; vecindad por contigüidad (reina).",
                   "Computed on the smoothed rate (local empirical Bayes), 999 permutations, false discovery rate "
                   "5%; queen contiguity."),
    "cluster_Hot spot": ("Punto caliente", "Hot spot"), "cluster_Cold spot": ("Punto frío", "Cold spot"),
    "cluster_High-High": ("Alto-Alto", "High-High"), "cluster_Low-Low": ("Bajo-Bajo", "Low-Low"),
    "cluster_High-Low": ("Alto-Bajo (atípico)", "High-Low (outlier)"),
    "cluster_Low-High": ("Bajo-Alto (atípico)", "Low-High (outlier)"),
    "cluster_Not significant": ("No significativo", "Not significant"),
    "points": ("Incidentes georreferenciados", "Geolocated incidents"),
    "points_lead": ("Puntos calientes en una cuadrícula de celdas cuadradas (Gi*, permutaciones, tasa de falsos "
                    "descubrimientos 5 %) y la prueba de Knox de repetición cercana: ¿ocurren hechos cercanos en el "
                    "espacio y en el tiempo más de lo que daría el azar?",
                    "Hot spots on a grid of square cells (Gi*, permutations, false discovery rate 5%) and the Knox "
                    "test of near repeats: do events close in space also come close in time more often than chance?"),
    "points_about": ("{events} hechos de {source} (ICCS {iccs}); celdas de {cell} m.",
                     "{events} events recorded by {source} (ICCS {iccs}); cells of {cell} m."),
    "knox": ("Prueba de Knox", "Knox test"),
    "knox_text": ("Pares a menos de {d} m y {days} días: {obs} observados, {exp} esperados (razón {ratio}, p = {p}).",
                  "Pairs within {d} m and {days} days: {obs} observed, {exp} expected (ratio {ratio}, p = {p})."),
    "no_points": ("Esta publicación no tiene análisis de puntos: {why}", "This release has no point analysis: {why}"),
    "ranking": ("Priorización territorial", "Territorial prioritisation"),
    "ranking_lead": ("Índice compuesto con incertidumbre: cada territorio con su rango mediano y su intervalo "
                     "de 5 a 95 % sobre las elecciones de normalización, ponderación, agregación e imputación "
                     "(método del JRC).",
                     "A composite index with its uncertainty: each territory's median rank and its 5-95% interval "
                     "over the choices of normalisation, weights, aggregation and imputation (the JRC method)."),
    "no_index": ("Esta publicación no tiene índice de priorización (el espacio de trabajo no tiene index.yaml).",
                 "This release has no prioritisation index (the workspace has no index.yaml)."),
    "median_rank": ("Rango mediano", "Median rank"), "rank_interval": ("Intervalo de rango", "Rank interval"),
    "priority": ("Prioridad", "Priority"),
    "class_very_high": ("muy alta", "very high"), "class_high": ("alta", "high"), "class_medium": ("media", "medium"),
    "class_low": ("baja", "low"), "class_very_low": ("muy baja", "very low"),
    "earlier_release": ("Esta es una publicación anterior.", "This is an earlier release."),
    "see_latest": ("Ver la más reciente ({id})", "See the latest ({id})"),
    "unstable_note": ("U: inestable (menos de 20 casos)", "U: unstable (fewer than 20 cases)"),
    "partial_note": ("P: periodo parcial", "P: partial period"),
}


def t(key: str, lang: str, **kw: Any) -> str:
    es, en = MESSAGES[key]
    text = es if lang == "es" else en
    return text.format(**kw) if kw else text


def number(value: Any, lang: str, digits: int | None = None) -> str:
    """1234.5 -> '1 234,5' (es) or '1,234.5' (en); None and NaN -> '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    v = float(value)
    if digits is None:
        digits = 0 if v == int(v) else (1 if abs(v) >= 10 else 2)
    text = f"{v:,.{digits}f}"
    if lang == "es":
        text = text.replace(",", "\u2009").replace(".", ",")
    return text
