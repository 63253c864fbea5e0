"""The FastAPI application. Built by `create_app(settings)`; nothing connects at import time.

The app owns what it builds: the System (unless one is given) is disposed of, and the intake publisher,
created at the first request that needs it, is closed at shutdown. Errors become responses here only.
Every API route but `/api/health` and `/api/login` needs a bearer token (`jiesu.web.auth`), every page
but the login a session (`jiesu.web.session`); Open311's `GET`s and `/metrics` are public. Every response
carries the security headers of `jiesu.web.security` (docs/security.md).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from fastapi import Depends, FastAPI, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from kafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from consumers.publisher import IntakePublisher
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain.case import CaseError, NotAllowedError, TransitionError
from dispatcher.domain.governance import TaskConflictError
from dispatcher.reads.metrics import check_database
from dispatcher.service.lifecycle import CaseNotFoundError
from dispatcher.service.unit_of_work import ConcurrencyError
from dispatcher.settings import Settings
from jiesu.web import (
    api,
    governance_tasks,
    hotspots,
    intake_api,
    knowledge,
    merge,
    metrics,
    open311,
    pages,
    pause_api,
    reports,
    scores,
    supervision,
    supervision_orders,
)
from jiesu.web import schemas as s
from jiesu.web.auth import ForbiddenError, NotAuthenticatedError, TooManyLoginsError
from jiesu.web.limits import (
    MAX_ERRORS,
    BodyGuard,
    BodyTooLargeError,
    NulInFormError,
    public_errors,
    refuse_nul,
)
from jiesu.web.pages.history import RecentHistory
from jiesu.web.security import LoginLimiter, SecurityHeaders
from sla.calendar import BEIJING

SOURCE = "/jiesu/web"
# what every REST route answers to a request it cannot read (the app's shape, not FastAPI's default)
INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": s.ValidationErrorBody,
        "description": "The request is invalid: `errors` says where and why.",
    }
}


class IntakeUnavailableError(Exception):
    """The intake topic did not take the request in time (HTTP 503): the caller should try again."""


class LazyIntake:
    """Publishes to the intake topic with one `IntakePublisher`, created at first use so the case API works
    without Kafka; a failed creation is tried again at the next request. Thread-safe."""

    def __init__(self, settings: Settings, timeout_s: float) -> None:
        self._settings, self._timeout_s = settings, timeout_s
        self._publisher: IntakePublisher | None = None
        self._lock = threading.Lock()

    def publish(self, complaint: ComplaintReceived) -> None:
        # The event id is the body's hash: a client retrying the same request is deduplicated at intake.
        event_id = hashlib.sha256(complaint.model_dump_json().encode()).hexdigest()
        try:
            self._connected().publish(complaint, event_id).get(timeout=self._timeout_s)
        except KafkaError as error:
            raise IntakeUnavailableError(
                f"the intake topic cannot be reached ({error.__class__.__name__}); try again later"
            ) from error

    def close(self) -> None:
        with self._lock:
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None

    def _connected(self) -> IntakePublisher:
        with self._lock:
            if self._publisher is None:
                timeout_ms = int(self._timeout_s * 1000)
                self._publisher = IntakePublisher(self._settings, SOURCE, timeout_ms=timeout_ms)
            return self._publisher


def create_app(settings: Settings, system: System | None = None, *, kafka_timeout_s: float = 5.0) -> FastAPI:
    """The app over `system`, or over one built with `bootstrap(settings)` and disposed of at shutdown.

    `kafka_timeout_s` bounds how long `POST /api/complaints` waits for the broker before answering 503.
    """
    owned = system is None
    running = system or bootstrap(settings)
    intake = LazyIntake(settings, kafka_timeout_s)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        intake.close()
        if owned:
            running.engine.dispose()

    app = FastAPI(
        title="Jiesu (接诉)",
        version="0.1.0",
        description="Dispatch engine for 12345 hotlines: intake, the case lifecycle, the center's queues.\n\n"
        "Authenticate with `Authorization: Bearer <token>`: a token from `POST /api/login` or "
        "`jiesu users token`. 401: no token, or an unknown or revoked one; 403: not allowed (on a case, the "
        "denial is written to its audit trail).",
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul)],
    )
    app.state.system, app.state.intake = running, intake
    app.state.settings = settings
    app.state.history = RecentHistory[object](settings.dashboard_history_seconds)  # the dashboard's charts
    session_idle = timedelta(minutes=settings.session_idle_minutes)
    app.state.people = PeopleStore(running.engine, running.clock, session_idle=session_idle)
    app.state.logins = LoginLimiter(
        running.clock,
        per_account=settings.login_failures_per_account,
        per_address=settings.login_failures_per_address,
        window=timedelta(minutes=settings.login_window_minutes),
    )
    app.add_middleware(BodyGuard, max_bytes=settings.web_max_body_bytes)
    app.add_middleware(SecurityHeaders)  # added last: the outermost, so every response has its headers
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    for router in (
        api.router,
        supervision.router,
        scores.router,
        intake_api.router,
        knowledge.router,
        reports.router,
        supervision_orders.router,
        merge.router,
        pause_api.router,
        hotspots.router,
        governance_tasks.router,
    ):
        app.include_router(router, responses=INVALID)
    app.include_router(open311.router)
    app.include_router(pages.router)
    app.include_router(metrics.router)
    app.add_exception_handler(pages.LoginRequiredError, pages.login_required)
    app.add_exception_handler(pages.CsrfError, pages.csrf_refused)
    app.add_exception_handler(NotAuthenticatedError, not_authenticated)
    app.add_exception_handler(TooManyLoginsError, too_many_logins)
    app.add_exception_handler(ForbiddenError, forbidden)
    app.add_exception_handler(CaseError, case_error)
    app.add_exception_handler(IntakeUnavailableError, intake_unavailable)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(BodyTooLargeError, too_large)
    app.add_exception_handler(NulInFormError, nul_in_form)
    app.add_exception_handler(HTTPException, http_error)

    calendar = running.sla.calendar

    @app.get("/api/health", summary="Liveness, the database, the broker and the calendar", tags=["health"])
    def health(response: Response) -> dict[str, Any]:
        """Liveness and the state of the database (503 when it does not answer), and which calendar knows
        this year and the next: a year nobody covers is counted Monday to Friday, a `warning` until the
        operator adds the State Council's schedule to the SLA file."""
        try:
            check_database(running.engine)
            database = "ok"
        except SQLAlchemyError as error:
            database = f"unavailable: {error.__class__.__name__}"
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        year = running.clock().astimezone(BEIJING).year
        sources = {str(y): calendar.source(y) for y in (year, year + 1)}
        warnings = [
            f"{y}: no holiday schedule; deadlines count Monday to Friday. Add it to {settings.sla_file}"
            for y, source in sources.items()
            if source == "weekends-only"
        ]
        state = "degraded" if database != "ok" else ("warning" if warnings else "ok")
        # the case API works without the broker: a broker down is reported, not a failed health check
        broker = "ok" if metrics.broker_up(settings.kafka_bootstrap, 1.0) else "unavailable"
        return {
            "status": state,
            "database": database,
            "broker": broker,
            "calendar": sources,
            "warnings": warnings,
        }

    return app


def error_response(code: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse(jsonable_encoder({"error": error, "detail": detail, **extra}), status_code=code)


def case_error(_: Request, error: Exception) -> JSONResponse:
    """Every refusal by the case model or the handlers, by kind: the one place they become statuses."""
    detail = str(error)
    if isinstance(error, CaseNotFoundError):
        return error_response(status.HTTP_404_NOT_FOUND, "not_found", detail)
    if isinstance(error, NotAllowedError):
        return error_response(status.HTTP_403_FORBIDDEN, "forbidden", detail)
    if isinstance(error, TransitionError):
        return error_response(
            status.HTTP_409_CONFLICT, "transition", detail, state=error.state, allowed_actions=error.allowed
        )
    if isinstance(error, ConcurrencyError | TaskConflictError):
        return error_response(status.HTTP_409_CONFLICT, "conflict", detail)
    return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid", detail)


def not_authenticated(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NotAuthenticatedError)
    response = error_response(status.HTTP_401_UNAUTHORIZED, "unauthenticated", str(error))
    response.headers["WWW-Authenticate"] = error.challenge
    return response


def too_many_logins(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TooManyLoginsError)
    response = error_response(status.HTTP_429_TOO_MANY_REQUESTS, "too_many_logins", str(error))
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def forbidden(_: Request, error: Exception) -> JSONResponse:
    return error_response(status.HTTP_403_FORBIDDEN, "forbidden", str(error))


def intake_unavailable(_: Request, error: Exception) -> JSONResponse:
    response = error_response(status.HTTP_503_SERVICE_UNAVAILABLE, "unavailable", str(error))
    response.headers["Retry-After"] = "5"
    return response


def too_large(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BodyTooLargeError)
    return error_response(status.HTTP_413_CONTENT_TOO_LARGE, "too_large", str(error.detail))


def http_error(_: Request, error: Exception) -> JSONResponse:
    """Starlette's and FastAPI's own refusals (an unknown path, a method not allowed, a body that cannot be
    parsed) in the app's shape: `error` is the status's name (not_found, bad_request...)."""
    assert isinstance(error, HTTPException)
    try:
        kind = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:  # a status no RFC names
        kind = "error"
    response = error_response(error.status_code, kind, str(error.detail))
    response.headers.update(error.headers or {})
    return response


def nul_in_form(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NulInFormError)
    return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, "validation", str(error.detail))


def invalid_request(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422, with a one-line `detail` for people next to the `errors`: where (`loc`) and why
    (`msg`) of each, and what was sent unless it is a secret, cut when long (`jiesu.web.limits`)."""
    assert isinstance(error, RequestValidationError)
    found = error.errors()
    errors = public_errors(found[:MAX_ERRORS])
    where = "; ".join(f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in errors)
    if len(found) > MAX_ERRORS:
        where += f"; and {len(found) - MAX_ERRORS} more errors"
    return error_response(
        status.HTTP_422_UNPROCESSABLE_CONTENT, "validation", f"invalid request: {where}", errors=errors
    )
