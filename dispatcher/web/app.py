"""The FastAPI application. Built by `create_app(settings)`; nothing connects at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response, status
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dispatcher.adapters.database import make_engine
from dispatcher.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="Jiesu (接诉)", version="0.1.0", description="Dispatch engine for 12345 hotlines.")
    engine = make_engine(settings.database_url)

    @app.get("/api/health")
    def health(response: Response) -> dict[str, Any]:
        """Liveness and the state of the database: 503 when the database does not answer."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            database = "ok"
        except SQLAlchemyError as error:
            database = f"unavailable: {error.__class__.__name__}"
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "ok" if database == "ok" else "degraded", "database": database}

    return app
