"""The open data portal: releases, the API and the pages (FastAPI)."""
