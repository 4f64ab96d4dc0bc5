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
    # --- alerts (analysts) ---
    "alerts_title": ("Alertas", "Alerts"),
    "alerts_lead": ("Territorios y meses en que la violencia se aparta de su patrón: cada serie mensual por territorio frente al método de Farrington mejorado, EARS C1/C2/C3 y un modelo binomial negativo con tendencia y estacionalidad. Solo para analistas: las cifras no pasan por el control de divulgación.",
                    "Territories and months where violence departs from its pattern: each territory's monthly series against the improved Farrington method, EARS C1/C2/C3 and a negative binomial model with trend and season. Analysts only: these figures are not under disclosure control."),
    "alerts_map": ("Alertas por territorio (la más grave de las listadas)", "Alerts by territory (the most severe listed)"),
    "no_alert": ("sin alerta", "no alert"),
    "no_alerts": ("Ninguna alerta con estos filtros. `segura alerts detect` las busca.", "No alert with these filters. `segura alerts detect` looks for them."),
    "severity": ("Gravedad", "Severity"),
    "severity_low": ("baja", "low"), "severity_medium": ("media", "medium"), "severity_high": ("alta", "high"),
    "severity_rule": ("Alta: tres métodos o más la señalan, o dos con un exceso de al menos el doble del margen de alarma (puntuación ≥ 2); media: dos métodos, o uno con puntuación ≥ 2; baja: un método. Con una línea base en cero, uno o dos casos no pasan de media.",
                      "High: three or more methods flag it, or two with an excess of at least twice the alarm margin (score ≥ 2); medium: two methods, or one with score ≥ 2; low: one method. Against a zero baseline, one or two cases are at most medium."),
    "alert_status": ("Estado", "Status"),
    "status_open": ("abierta", "open"), "status_acknowledged": ("reconocida", "acknowledged"), "status_closed": ("cerrada", "closed"),
    "status_any": ("cualquiera", "any"), "severity_any": ("cualquiera", "any"),
    "observed": ("Observado", "Observed"), "expected": ("Esperado", "Expected"), "threshold": ("Umbral", "Threshold"),
    "score": ("Puntuación", "Score"), "methods": ("Métodos", "Methods"),
    "methods_agree": ("{n} de {of} métodos", "{n} of {of} methods"),
    "filter": ("Filtrar", "Filter"),
    "feed": ("Canal Atom", "Atom feed"),
    "withdrawn": ("retirada: una detección posterior ya no la señala", "withdrawn: a later detection no longer flags it"),
    "acknowledge": ("Reconocer", "Acknowledge"), "close_alert": ("Cerrar", "Close"), "add_note": ("Añadir nota", "Add note"),
    "note": ("Nota", "Note"), "notes": ("Notas", "Notes"), "no_notes": ("Sin notas.", "No notes."),
    "acknowledged_by": ("Reconocida por {user} el {at}", "Acknowledged by {user} on {at}"),
    "first_detected": ("Detectada por primera vez", "First detected"), "last_detected": ("Última detección", "Last detected"),
    "score_explained": ("Puntuación = (observado − esperado) / (umbral − esperado); hay alarma cuando supera 1.",
                        "Score = (observed − expected) / (threshold − expected); an alarm when it exceeds 1."),
    "alert_entry": ("[{severity}] {territory}, {period}: {indicator}", "[{severity}] {territory}, {period}: {indicator}"),
    "alert_summary": ("Observado {observed}, esperado {expected} (territorio {code}); métodos: {methods}.",
                      "Observed {observed}, expected {expected} (territory {code}); methods: {methods}."),
    "all_alerts": ("Todas las alertas", "All alerts"),
    # --- social conflict registry (portal/conflicts.py) ---
    "conflicts": ("Conflictos sociales", "Social conflicts"),
    "conflict_downloads": ("Registro de conflictos sociales: tablas", "Social conflict registry: tables"),
    "conflict_downloads_lead": ("Cada tabla del registro, tal como se publicó, con las citas de sus fuentes.",
                                "Each table of the registry as published, with its sources' citations."),
    "conflict_table_conflicts": ("Conflictos (con la puntuación de escalada)", "Conflicts (with the escalation score)"),
    "conflict_table_parts": ("Partes de la puntuación de escalada", "Parts of the escalation score"),
    "conflict_table_events": ("Eventos", "Events"),
    "conflict_table_actors": ("Actores", "Actors"),
    "conflict_table_agreements": ("Acuerdos y compromisos", "Agreements and commitments"),
    "conflict_table_phases": ("Historial de fases", "Phase history"),
    "conflict_lead": ("Registro de conflictos sociales: demandas, actores, eventos con la respuesta del Estado, acuerdos y "
                      "compromisos, fases, y una puntuación de escalada transparente. Primero los de mayor puntuación.",
                      "The social conflict registry: demands, actors, events with the state's response, agreements and "
                      "commitments, phases, and a transparent escalation score. Highest score first."),
    "conflict_none": ("La publicación {id} no tiene registro de conflictos: el espacio de trabajo no tenía ninguno al "
                      "publicarse (se importan con `segura conflicts import`).",
                      "Release {id} has no conflict registry: the workspace had none when it was published (events are "
                      "imported with `segura conflicts import`)."),
    "conflict_as_of_note": ("Cada conflicto se puntúa a la fecha del último evento de su fuente (de su país si se registró a "
                            "mano), no a la de hoy: con datos históricos todas las puntuaciones de hoy serían cero. Un "
                            "conflicto sin eventos en los 90 días previos a esa fecha puntúa cero: no está escalando.",
                            "Each conflict is scored as of the last event date of its source (of its country if it was "
                            "entered by hand), not as of today: with historical data every score today would be zero. A "
                            "conflict with no event in the 90 days before that date scores zero: it is not escalating."),
    "conflict_filter_country": ("País", "Country"), "conflict_filter_phase": ("Fase", "Phase"),
    "conflict_filter_demand": ("Demanda", "Demand"), "conflict_filter_level": ("Nivel de escalada", "Escalation level"),
    "conflict_all": ("Todos", "All"), "conflict_apply": ("Filtrar", "Filter"), "conflict_clear": ("Quitar filtros", "Clear filters"),
    "conflict_list": ("Conflictos", "Conflicts"), "conflict_shown": ("{n} de {total}", "{n} of {total}"),
    "conflict_list_caption": ("Conflictos registrados, de mayor a menor puntuación de escalada; a igual puntuación, primero "
                              "el de evento más reciente",
                              "Registered conflicts, highest escalation score first; at equal scores, the most recent "
                              "event first"),
    "conflict_no_match": ("Ningún conflicto cumple estos filtros.", "No conflict matches these filters."),
    "conflict_title": ("Conflicto", "Conflict"), "conflict_period": ("Periodo (eventos)", "Period (events)"),
    "conflict_events": ("Eventos", "Events"), "conflict_deaths": ("Muertes", "Deaths"),
    "conflict_score": ("Puntuación", "Score"), "conflict_as_of": ("Puntuado al", "Scored as of"),
    "conflict_api": ("Estos datos en JSON", "This data as JSON"),
    "conflict_indicators": ("Indicadores del registro", "Registry indicators"),
    "conflict_indicators_note": ("Del registro completo (sin filtros), según lo publicado; plazos evaluados al {on}, fecha de "
                                 "la publicación.",
                                 "Of the whole registry (no filters), as published; deadlines checked on {on}, the date "
                                 "of the release."),
    "conflict_escalation_rate": ("Tasa de escalada", "Escalation rate"),
    "conflict_of": ("({part} de {whole})", "({part} of {whole})"),
    "conflict_escalation_rate_def": ("Conflictos que alguna vez llegaron a escalada o crisis en su historia de fases, entre "
                                     "todos. Al importar, un conflicto con bloqueos, tomas, enfrentamientos o respuesta de "
                                     "fuerza entra en escalada: en una base de muertes, todos.",
                                     "Conflicts that ever reached escalation or crisis in their phase history, among all. "
                                     "On import, a conflict with blockades, occupations, clashes or a forceful response "
                                     "starts in escalation: in a database of deaths, every one does."),
    "conflict_resolved_by_agreement": ("Resueltos con acuerdo", "Resolved by agreement"),
    "conflict_none_resolved": ("ningún conflicto resuelto en el registro", "no resolved conflict in the registry"),
    "conflict_resolved_def": ("Conflictos resueltos que tienen un acuerdo registrado, entre los resueltos.",
                              "Resolved conflicts with a recorded agreement, among the resolved ones."),
    "conflict_overdue": ("Compromisos de acuerdos vencidos", "Agreement commitments past their deadline"),
    "conflict_overdue_def": ("Compromisos con plazo vencido al {on} y no cumplidos.",
                             "Commitments whose deadline had passed on {on} without being fulfilled."),
    "conflict_by_demand": ("Conflictos por tipo de demanda", "Conflicts by demand type"),
    "conflict_by_demand_desc": ("Barras horizontales: número de conflictos de cada uno de los {n} tipos de demanda, de "
                                "mayor a menor.",
                                "Horizontal bars: the number of conflicts of each of the {n} demand types, largest "
                                "first."),
    "conflict_chart_links": ("Cada barra filtra la lista por esa demanda.", "Each bar filters the list by that demand."),
    "conflict_by_month": ("Conflictos por mes de inicio", "Conflicts by month of start"),
    "conflict_by_month_desc": ("Columnas: número de conflictos que empezaron cada mes, de {start} a {end}; un mes sin "
                               "columna no tiene ninguno.",
                               "Columns: the number of conflicts that started each month, from {start} to {end}; a "
                               "month without a column has none."),
    "conflict_table_of": ("Tabla: {what}", "Table: {what}"),
    "conflict_commitment": ("Compromiso", "Commitment"), "conflict_deadline": ("Plazo", "Deadline"),
    "conflict_days_overdue": ("Días de atraso", "Days overdue"),
    "conflict_sources": ("Fuentes", "Sources"),
    "conflict_sources_caption": ("Fuentes del registro, con su cita y lo importado (filas leídas = importadas + rechazadas)",
                                 "The registry's sources, with their citation and what was imported (rows read = "
                                 "imported + rejected)"),
    "conflict_citation": ("Cita", "Citation"), "conflict_file": ("Archivo", "File"),
    "conflict_rows_read": ("Filas leídas", "Rows read"), "conflict_rows_imported": ("Importadas", "Imported"),
    "conflict_rows_rejected": ("Rechazadas", "Rejected"),
    "conflict_privacy": ("El registro guarda organizaciones y tipos de actor, nunca nombres de personas. De la base de "
                         "muertes solo se importan el título del evento, la fecha, el lugar, la campaña, el ámbito de la "
                         "demanda y si el Estado fue el autor.",
                         "The registry holds organisations and actor types, never a person's name. From the database of "
                         "deaths only the event's title, date, place, campaign, demand domain and whether the state was "
                         "the perpetrator are imported."),
    "conflict_intensity": ("Intensidad", "Intensity"),
    "conflict_intensity_1": ("declaraciones, reuniones u otros", "declarations, meetings or other"),
    "conflict_intensity_2": ("marchas, mítines o huelgas", "marches, rallies or strikes"),
    "conflict_intensity_3": ("bloqueos o tomas", "blockades or occupations"),
    "conflict_intensity_4": ("enfrentamientos, muertes o fuerza del Estado", "clashes, deaths or state force"),
    "conflict_forceful_events": ("Eventos con respuesta de fuerza", "Events met with force"),
    "conflict_score_heading": ("Puntuación de escalada", "Escalation score"),
    "conflict_score_explain": ("Puntuación al {on}: la suma ponderada de cuatro partes, cada una entre 0 y 1. Nivel alto "
                               "desde {high}, medio desde {medium}; si no, bajo. Es una señal para priorizar la "
                               "atención, no una predicción.",
                               "Score as of {on}: the weighted sum of four parts, each between 0 and 1. High from "
                               "{high}, medium from {medium}, else low. It is a signal to prioritise attention, not a "
                               "prediction."),
    "conflict_parts_caption": ("Partes de la puntuación al {on}: valor × peso = aporte; la suma de los aportes es la "
                               "puntuación",
                               "The score's parts as of {on}: value × weight = contribution; the contributions add up "
                               "to the score"),
    "conflict_col_part": ("Parte", "Part"), "conflict_col_measures": ("Qué mide", "What it measures"),
    "conflict_col_measured": ("Lo medido al {on}", "Measured as of {on}"), "conflict_col_value": ("Valor (0–1)", "Value (0–1)"),
    "conflict_col_weight": ("Peso", "Weight"), "conflict_col_contribution": ("Aporte", "Contribution"),
    "conflict_score_total": ("Puntuación (suma de los aportes)", "Score (sum of the contributions)"),
    "conflict_part_rising": ("Actividad en aumento", "Rising activity"),
    "conflict_part_rising_def": ("Eventos en los últimos {recent} días (n) frente al promedio por {recent} días en los "
                                 "{baseline} anteriores (b): máx(0, (n − b) / (n + b)). Cero si no pasa nada o la "
                                 "actividad baja; cerca de 1 cuando empieza.",
                                 "Events in the last {recent} days (n) against the average per {recent} days in the "
                                 "{baseline} before (b): max(0, (n − b) / (n + b)). Zero when nothing happens or "
                                 "activity falls; near 1 when it starts."),
    "conflict_part_confrontation": ("Confrontación", "Confrontation"),
    "conflict_part_confrontation_def": ("Proporción de bloqueos, tomas y enfrentamientos entre los eventos de los últimos "
                                        "{recent} días (r) frente a la de antes (p): 0,5 × r + 0,5 × máx(0, r − p): la "
                                        "mitad el nivel, la mitad el cambio.",
                                        "Share of blockades, occupations and clashes among the last {recent} days' "
                                        "events (r) against the share before (p): 0.5 × r + 0.5 × max(0, r − p): half "
                                        "the level, half the shift."),
    "conflict_part_state_force": ("Fuerza del Estado", "State force"),
    "conflict_part_state_force_def": ("Proporción de los eventos de los últimos {recent} días que recibieron uso de la "
                                      "fuerza, detenciones o desalojo.",
                                      "Share of the last {recent} days' events met with force, arrests or eviction."),
    "conflict_part_unmet_commitments": ("Compromisos incumplidos", "Unmet commitments"),
    "conflict_part_unmet_commitments_def": ("Proporción de los compromisos vencidos a la fecha que no se cumplieron en su "
                                            "plazo.",
                                            "Share of the commitments due by the date that were not met by their "
                                            "deadline."),
    "conflict_fact_rising": ("eventos en los últimos {recent} días: {n}; promedio por {recent} días en los {baseline} "
                             "anteriores: {b}",
                             "events in the last {recent} days: {n}; average per {recent} days in the {baseline} "
                             "before: {b}"),
    "conflict_fact_confrontation": ("bloqueos, tomas o enfrentamientos: {r} % de los eventos recientes, {p} % antes",
                                    "blockades, occupations or clashes: {r}% of recent events, {p}% before"),
    "conflict_fact_state_force": ("eventos recientes con fuerza, detenciones o desalojo: {forced} de {n}",
                                  "recent events met with force, arrests or eviction: {forced} of {n}"),
    "conflict_fact_unmet_commitments": ("compromisos vencidos al {on} y no cumplidos en su plazo: {unmet} de {due}",
                                        "commitments due by {on} and not met by their deadline: {unmet} of {due}"),
    "conflict_score_quiet": ("Su último evento ({last}) es anterior a los {days} días que mide la puntuación: no hay "
                             "actividad que medir al {on}.",
                             "Its last event ({last}) is before the {days} days the score measures: there is no "
                             "activity to measure as of {on}."),
    "conflict_actors": ("Actores", "Actors"),
    "conflict_role_claimant": ("Demandantes", "Claimants"), "conflict_role_counterpart": ("Contrapartes", "Counterparts"),
    "conflict_no_actor": ("Ninguno registrado.", "None recorded."),
    "conflict_no_actors": ("La fuente no registra los actores de este conflicto.",
                           "The source records no actors for this conflict."),
    "conflict_timeline": ("Línea de tiempo", "Timeline"),
    "conflict_timeline_title": ("Línea de tiempo: {title}", "Timeline: {title}"),
    "conflict_timeline_desc": ("{n} eventos de {first} a {last}, en una fila por tipo de evento; {forceful} recibieron una "
                               "respuesta del Estado con fuerza, detenciones o desalojo (rombos rojos); {agreements} "
                               "acuerdos (líneas verdes). Cada marca crece con las muertes.",
                               "{n} events from {first} to {last}, one row per event type; {forceful} met a state "
                               "response of force, arrests or eviction (red diamonds); {agreements} agreements (green "
                               "lines). Each mark grows with the deaths."),
    "conflict_timeline_caption": ("Cada marca es un evento y lleva a su fila de la tabla; su título dice la fecha, el tipo, "
                                  "la respuesta del Estado y las muertes.",
                                  "Each mark is an event and leads to its row in the table; its title gives the date, "
                                  "type, state response and deaths."),
    "conflict_key_event": ("evento (mayor con más muertes)", "event (larger with more deaths)"),
    "conflict_key_forceful": ("respuesta del Estado con fuerza, detenciones o desalojo",
                              "state response of force, arrests or eviction"),
    "conflict_key_agreement": ("acuerdo firmado", "agreement signed"),
    "conflict_agreement_signed": ("Acuerdo firmado el {date}", "Agreement signed on {date}"),
    "conflict_response_is": ("respuesta del Estado: {response}", "state response: {response}"),
    "conflict_deaths_n": ("muertes: {n}", "deaths: {n}"),
    "conflict_events_caption": ("Eventos del conflicto ({n}), por fecha; en negrita, las respuestas del Estado con fuerza, "
                                "detenciones o desalojo",
                                "The conflict's events ({n}), by date; in bold, state responses of force, arrests or "
                                "eviction"),
    "conflict_date": ("Fecha", "Date"), "conflict_event_type": ("Tipo de evento", "Event type"),
    "conflict_state_response": ("Respuesta del Estado", "State response"), "conflict_description": ("Descripción", "Description"),
    "conflict_precision_month": ("fecha conocida al mes", "date known to the month"),
    "conflict_precision_year": ("fecha conocida al año", "date known to the year"),
    "conflict_no_events": ("Sin eventos registrados.", "No events recorded."),
    "conflict_agreements": ("Acuerdos y compromisos", "Agreements and commitments"),
    "conflict_agreements_caption": ("Acuerdos firmados y sus compromisos, con plazo y cumplimiento al {on}",
                                    "Agreements signed and their commitments, with deadline and fulfilment as of {on}"),
    "conflict_signed": ("Firmado", "Signed"), "conflict_agreement": ("Acuerdo", "Agreement"),
    "conflict_responsible": ("Responsable", "Responsible"), "conflict_fulfilment": ("Cumplimiento", "Fulfilment"),
    "conflict_no_deadline": ("sin plazo", "no deadline"), "conflict_fulfilled_on": ("cumplido el {date}", "fulfilled on {date}"),
    "conflict_fulfilled": ("cumplido", "fulfilled"), "conflict_overdue_by": ("vencido hace {n} días", "overdue by {n} days"),
    "conflict_pending": ("pendiente, en plazo", "pending, within its deadline"),
    "conflict_no_commitments": ("sin compromisos registrados", "no commitments recorded"),
    "conflict_no_agreements": ("Ningún acuerdo registrado.", "No agreement recorded."),
    "conflict_phases": ("Historia de fases", "Phase history"),
    "conflict_phases_caption": ("Cambios de fase del conflicto, por fecha", "The conflict's phase changes, by date"),
    "conflict_from_phase": ("De", "From"), "conflict_to_phase": ("A", "To"), "conflict_reason": ("Motivo", "Reason"),
    "conflict_reason_registered": ("registrado", "registered"),
    "conflict_reason_import rule": ("regla de importación (fase inicial según los eventos)",
                                    "import rule (initial phase from the events)"),
    "conflict_source": ("Fuente", "Source"),
    "conflict_entered_by_hand": ("Registrado a mano en el observatorio.", "Entered by hand at the observatory."),
    "conflict_country_BO": ("Bolivia", "Bolivia"), "conflict_country_CR": ("Costa Rica", "Costa Rica"),
    "conflict_country_NI": ("Nicaragua", "Nicaragua"), "conflict_country_MX": ("México", "Mexico"),
    "conflict_phase_latent": ("latente", "latent"), "conflict_phase_emergence": ("surgimiento", "emergence"),
    "conflict_phase_escalation": ("escalada", "escalation"), "conflict_phase_crisis": ("crisis", "crisis"),
    "conflict_phase_de-escalation": ("desescalada", "de-escalation"), "conflict_phase_resolved": ("resuelto", "resolved"),
    "conflict_level_high": ("alto", "high"), "conflict_level_medium": ("medio", "medium"), "conflict_level_low": ("bajo", "low"),
    "conflict_type_declaration": ("declaración", "declaration"), "conflict_type_meeting": ("reunión", "meeting"),
    "conflict_type_march": ("marcha", "march"), "conflict_type_rally": ("mitin", "rally"),
    "conflict_type_blockade": ("bloqueo", "blockade"), "conflict_type_strike": ("huelga o paro", "strike"),
    "conflict_type_occupation": ("toma", "occupation"), "conflict_type_clash": ("enfrentamiento", "clash"),
    "conflict_type_other": ("otro", "other"),
    "conflict_response_none": ("ninguna", "none"), "conflict_response_dialogue": ("diálogo", "dialogue"),
    "conflict_response_police_presence": ("presencia policial", "police presence"),
    "conflict_response_use_of_force": ("uso de la fuerza", "use of force"),
    "conflict_response_arrests": ("detenciones", "arrests"), "conflict_response_eviction": ("desalojo", "eviction"),
    "conflict_response_legal_action": ("acción judicial", "legal action"), "conflict_response_threat": ("amenaza", "threat"),
    "conflict_response_unknown": ("no consta", "not recorded"),
    "conflict_demand_labour": ("trabajo y condiciones laborales", "labour and working conditions"),
    "conflict_demand_accountability": ("rendición de cuentas", "accountability"),
    "conflict_demand_laws_and_policies": ("leyes, reglamentos, planes o decretos", "laws, regulations, plans or decrees"),
    "conflict_demand_public_services": ("servicios públicos", "public services"),
    "conflict_demand_public_infrastructure": ("infraestructura pública", "public infrastructure"),
    "conflict_demand_education": ("educación", "education"),
    "conflict_demand_government_intervention": ("intervención del gobierno", "government intervention"),
    "conflict_demand_rights": ("derechos", "rights"), "conflict_demand_environment": ("ambiente", "environment"),
    "conflict_demand_privatisation": ("concesiones y privatización", "concessions and privatisation"),
    "conflict_demand_agriculture": ("producción agropecuaria", "farming"),
    "conflict_demand_fisheries": ("pesca", "fisheries"),
    "conflict_demand_international_treaties": ("tratados internacionales", "international treaties"),
    "conflict_demand_other": ("otras", "other"), "conflict_demand_coca": ("coca", "coca"),
    "conflict_demand_rural_land": ("tierra rural", "rural land"),
    "conflict_demand_partisan_politics": ("política partidaria", "partisan politics"),
    "conflict_demand_gas_wars": ("guerras del gas", "gas wars"), "conflict_demand_mining": ("minería", "mining"),
    "conflict_demand_economic_policies": ("política económica", "economic policy"),
    "conflict_demand_peasant": ("campesinado", "peasants"), "conflict_demand_urban_land": ("suelo urbano", "urban land"),
    "conflict_demand_drug_trade": ("narcotráfico", "drug trade"), "conflict_demand_guerrilla": ("guerrilla", "guerrilla"),
    "conflict_demand_municipal_governance": ("gobierno municipal", "municipal governance"),
    "conflict_demand_ethno_ecological": ("étnico-ecológica", "ethno-ecological"),
    "conflict_demand_disability_rights": ("derechos de las personas con discapacidad", "disability rights"),
    "conflict_demand_local_development": ("desarrollo local", "local development"),
    "conflict_demand_paramilitary": ("paramilitares", "paramilitary"),
    "conflict_demand_contraband": ("contrabando", "contraband"),
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
