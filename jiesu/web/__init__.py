"""The web app (FastAPI): the REST API, the pages, Open311 GeoReport v2 and `/metrics`."""
