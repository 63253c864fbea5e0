"""The web app (FastAPI): the API now, pages later."""
