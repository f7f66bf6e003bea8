"""The console: supervisors find, play and score recordings, hold them for legal reasons,
follow complaint deadlines, read KPIs and listen to calls in progress; agents work at their
desk (presence, the screen pop of the call ringing, wrap-up).

Every page needs a signed-in user (console/auth.py) whose role allows the action; every
form carries the session's CSRF token; recordings are found by id only and served from the
recordings folder only (no path from a request ever reaches the file system); every
playback and download is written to the audit log.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.middleware.trustedhost import TrustedHostMiddleware

from console import auth, i18n
from console.dashboard import CHART_IDS, chart_csv
from console.dashboard import charts as dashboard_charts
from console.desk import DeskError, current_offer, offer_of, screen_pop
from console.desk_actions import COMPLAINT_CATEGORIES, book_callback, file_complaint
from console.live import MODES, LiveMonitor, MonitorError, MonitorUnavailable, live_calls
from console.qa import Checklist, load_checklist
from console.throttle import Busy, SignInThrottle
from console.wallboard import floor_state
from console.wrap_up import Dispositions, load_dispositions, save_wrap_up
from db import audit
from db import follow_ups as follow_up_rules
from db import recordings as recording_rules
from db.audio_store import AudioCipher, contained, open_audio
from db.complaints import complaints_by_urgency, overdue
from db.kpi_series import kpi_series
from db.kpis import KpiSettings, compute
from db.models import (
    KEPT_RECORDINGS,
    AuditEntry,
    Call,
    CallEvent,
    Complaint,
    FollowUp,
    MessageText,
    OutboxMessage,
    QaReview,
    Recording,
    SpeechResult,
    WrapUp,
)
from db.privacy import mask_number, number_key
from ivr.menu_schema import LineSettings
from ivr.ports import TicketIssuer
from pbx.ami import Ami, AmiError
from pbx.presence import PAUSE_REASONS, PresenceControl, PresenceError, presence_of
from pbx.queue_board import read_board
from pbx.transfer import CallTransfer, TransferError

log = logging.getLogger(__name__)

SESSION_COOKIE = "hotline_session"
LOGIN_CSRF_COOKIE = "hotline_login_csrf"
PAGE_SIZE = 100
TEMPLATES = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True,
    extensions=["jinja2.ext.i18n"]))
TEMPLATES.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True)
TEMPLATES.env.filters["translate"] = i18n.gettext
LANGUAGE_COOKIE = "hotline_language"  # the sign-in page's language, before anyone signs in
# One range; a bound has at most 18 digits (past any file's size, within a 64-bit offset).
_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")
# Requests for one recording by one viewer this close together are one playback (seeks).
PLAYBACK_WINDOW = timedelta(minutes=30)
MAX_ROW_ID = 2**63 - 1  # what a database integer holds; larger ids name no row
# Dates the dashboard accepts: wide enough for any report, far from the calendar's edges.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


@dataclass
class ConsoleConfig:
    engine: Engine
    recordings_dir: Path
    messages_dir: Path | None = None  # callers' messages (follow-ups); None: not played
    cipher: AudioCipher | None = None
    number_secret: bytes | None = None  # finds a caller by full number (keyed hash)
    monitor: LiveMonitor | None = None  # None: live monitoring is off
    checklist: Checklist = field(default_factory=load_checklist)
    timezone: str = "Asia/Shanghai"
    cookie_secure: bool = False  # set behind TLS
    # Host headers the console answers (DNS rebinding, poisoned links); () answers any.
    trusted_hosts: tuple[str, ...] = ()
    audit_seal: audit.AuditSeal = field(default_factory=audit.AuditSeal.ephemeral)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # The agent desk: presence over AMI (None: off), the agents supervisors see, the menus'
    # nodes in words and dialect names for the screen pop, the wrap-up dispositions.
    presence: PresenceControl | None = None
    agent_ids: tuple[str, ...] = ()
    node_words: Mapping[str, str] = field(default_factory=dict)
    dialects: Mapping[str, str] = field(default_factory=dict)
    dispositions: Dispositions = field(default_factory=load_dispositions)
    line: LineSettings | None = None  # the calendar callbacks booked at the desk honour
    tickets: TicketIssuer | None = None  # complaint numbers for tickets opened at the desk
    phones: Mapping[str, BrowserPhone] = field(default_factory=dict)  # agent id -> phone
    transfer: CallTransfer | None = None  # None: no transfers (the console has no Asterisk)
    floor: Callable[[], Ami] | None = None  # the wallboard's AMI (None: day figures only)
    pop_every_s: float = 0.5  # how often the desk's event stream looks for a change
    stream_for_s: float = 300.0  # then the browser reconnects (and the session is checked)


@dataclass(frozen=True)
class BrowserPhone:
    """What the desk's WebRTC phone needs to register as the agent's extension: handed only
    to that agent's own page."""

    websocket: str  # ws://127.0.0.1:<port>/ws, Asterisk's loopback HTTP server
    uri: str  # sip:<extension>@127.0.0.1
    password: str = field(repr=False)


class LoginRequired(Exception):
    pass


def _database(request: Request) -> Any:
    """One transaction per request: the action and its audit entry commit together."""
    config: ConsoleConfig = request.app.state.config
    with Session(config.engine) as session, session.begin():
        yield audit.seal_session(session, config.audit_seal)


# Committed before the response leaves ("function" scope): by default FastAPI runs the code
# after `yield` once the response is sent, so a browser following a sign-in's redirect could
# arrive before its session was committed, and a failed commit would come too late to stop
# a "done" from reaching the user.
DB = Annotated[Session, Depends(_database, scope="function")]


def _signed_in(request: Request, session: DB) -> auth.Viewer:
    config: ConsoleConfig = request.app.state.config
    found = auth.viewer(session, request.cookies.get(SESSION_COOKIE), config.now())
    if found is None:
        raise LoginRequired
    return found


Who = Annotated[auth.Viewer, Depends(_signed_in)]


def create_app(config: ConsoleConfig) -> FastAPI:
    app = FastAPI(title="Hotline console", docs_url=None, redoc_url=None, openapi_url=None)
    local = ZoneInfo(config.timezone)
    throttle = SignInThrottle()
    recordings_root = config.recordings_dir.resolve()

    app.state.config = config
    # The browser phones' WebSocket (Asterisk's, on another port) is the only other place
    # a page may connect to.
    phone_sockets = "".join(sorted({f" {p.websocket}" for p in config.phones.values()}))
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")),
              name="static")
    if config.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.trusted_hosts))

    def allow(viewer: auth.Viewer, action: str) -> None:
        if not viewer.may(action):
            raise HTTPException(403, f"your role ({viewer.role}) may not {action}")

    def check_csrf(viewer: auth.Viewer, token: str) -> None:
        if not secrets.compare_digest(viewer.csrf_token, token):
            raise HTTPException(403, "the form is stale or was not sent by this console; "
                                     "reload the page")

    def page(request: Request, name: str, viewer: auth.Viewer | None,
             **context: Any) -> HTMLResponse:
        """A page in the viewer's language (before signing in: the sign-in page's)."""
        chosen = viewer.language if viewer else request.cookies.get(LANGUAGE_COOKIE)
        with i18n.speaking(chosen) as language:
            return TEMPLATES.TemplateResponse(request, name, {
                "viewer": viewer, "language": language, "languages": i18n.LANGUAGES,
                "html_lang": i18n.HTML_LANG[language], "html_langs": i18n.HTML_LANG,
                "local": lambda m: i18n.moment(m.astimezone(local) if m else None), "day": i18n.day,
                "number": i18n.number, **context})

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path.startswith(("/recordings/", "/followups/")) and \
                request.url.path.endswith(("/audio", "/download")):
            return Response("sign in first", status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
            f"connect-src 'self'{phone_sockets}; "
            "style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    # -- signing in ------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, lang: str = "") -> HTMLResponse:
        token = secrets.token_urlsafe(32)
        if lang in i18n.LANGUAGES:  # chosen on this page: remembered by this browser
            request.cookies[LANGUAGE_COOKIE] = lang
        response = page(request, "login.html", None, csrf=token, error=None)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=config.cookie_secure)
        if lang in i18n.LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, lang, httponly=True, samesite="strict",
                                secure=config.cookie_secure, max_age=365 * 86400)
        return response

    @app.post("/login")
    def login(request: Request, session: DB, username: Annotated[str, Form()],
              password: Annotated[str, Form()], csrf: Annotated[str, Form()]) -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf):
            raise HTTPException(403, "the sign-in form is stale; reload it")
        client = request.client.host if request.client else "-"
        if throttle.blocked(client, username):
            response = page(request, "login.html", None, csrf=csrf,
                            error=i18n.N_("Too many failed attempts; wait five minutes."))
            response.status_code = 429
            return response
        user = None
        if len(username) <= auth.MAX_USERNAME and len(password) <= auth.MAX_PASSWORD:
            try:
                with throttle.hashing():
                    user = auth.authenticate(session, username, password)
            except Busy as exc:
                raise HTTPException(503, str(exc)) from exc
        if user is None:
            throttle.failed(client, username[:auth.MAX_USERNAME])
            log.warning("console sign-in failed for a user name")
            response = page(request, "login.html", None, csrf=csrf,
                            error=i18n.N_("Wrong user name or password."))
            response.status_code = 401
            return response
        throttle.succeeded(client, username)
        token = auth.open_session(session, user, config.now())
        audit.record(session, config.now(), user.username, "sign-in", "console")
        signed = RedirectResponse("/desk" if user.role == "agent" else "/recordings",
                                  status_code=303)
        signed.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                          secure=config.cookie_secure,
                          max_age=int(auth.ABSOLUTE.total_seconds()))
        signed.delete_cookie(LOGIN_CSRF_COOKIE)
        return signed

    @app.post("/logout")
    def logout(request: Request, session: DB, viewer: Who,
               csrf: Annotated[str, Form()]) -> Response:
        check_csrf(viewer, csrf)
        auth.close_session(session, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.post("/language")
    def choose_language(session: DB, viewer: Who, csrf: Annotated[str, Form()],
                        language: Annotated[str, Form()],
                        back: Annotated[str, Form()] = "/") -> Response:
        """The signed-in user's language, kept with the user (every browser they use)."""
        check_csrf(viewer, csrf)
        if language not in i18n.LANGUAGES:
            raise HTTPException(400, f"a language is one of {', '.join(i18n.LANGUAGES)}")
        auth.set_language(session, viewer.username, language)
        # Back to the page the form was on: a path of this console only, never elsewhere.
        # "//host" would be another site: a second slash never starts the path.
        local_path = back if re.fullmatch(r"/(?!/)[A-Za-z0-9/_-]{0,200}", back) else "/"
        return RedirectResponse(local_path, status_code=303)

    @app.get("/")
    def home(viewer: Who) -> Response:
        return RedirectResponse("/desk" if viewer.role == "agent" else "/recordings",
                                status_code=303)

    # -- recordings ------------------------------------------------------------------------

    @app.get("/recordings", response_class=HTMLResponse)
    def search(request: Request, session: DB, viewer: Who, day_from: str = "",
               day_to: str = "", agent: str = "", queue: str = "", caller: str = "",
               ticket: str = "", language: str = "", outcome: str = "") -> HTMLResponse:
        allow(viewer, "search")
        query = (select(Recording, Call).join(Call, Call.call_id == Recording.call_id)
                 .where(Recording.status.in_(KEPT_RECORDINGS))
                 .order_by(Call.started_at.desc(), Recording.id.desc()).limit(PAGE_SIZE))
        problems = []
        for wrong, value, edge in (
                (i18n.N_("The first day is not a date (YYYY-MM-DD)"), day_from, day_time(0)),
                (i18n.N_("The last day is not a date (YYYY-MM-DD)"), day_to, None)):
            if not value:
                continue
            try:
                day = date.fromisoformat(value)
            except ValueError:
                problems.append(i18n.Phrase(wrong))
                continue
            if edge is not None:
                query = query.where(Call.started_at >= datetime.combine(day, edge, local))
            else:
                query = query.where(Call.started_at < datetime.combine(
                    day + timedelta(days=1), day_time(0), local))
        if agent:
            query = query.where(Recording.agent == agent)
        if queue:
            query = query.where(Recording.queue.startswith(queue))
        if language:
            query = query.where(Call.language == language)
        if outcome:
            query = query.where(Call.outcome == outcome)
        if ticket:
            query = query.where(Call.call_id.in_(select(Complaint.call_id).where(
                Complaint.ticket == ticket)))
        digits = re.sub(r"\D", "", caller)
        if caller and len(digits) >= 7 and config.number_secret:
            query = query.where(Call.caller_key == number_key(digits, config.number_secret))
        elif caller and 0 < len(digits) <= 4:
            query = query.where(Call.caller_masked.endswith(digits))
        elif caller:
            problems.append(i18n.Phrase(
                i18n.N_("search a caller by their full number or its last 4 digits")))
        rows = session.execute(query).all() if not problems else []
        return page(request, "recordings.html", viewer, rows=rows, problems=problems,
                    form={"day_from": day_from, "day_to": day_to, "agent": agent,
                          "queue": queue, "caller": caller, "ticket": ticket,
                          "language": language, "outcome": outcome})

    def recording_or_404(session: Session, recording_id: int) -> Recording:
        if not 0 < recording_id <= MAX_ROW_ID:
            raise HTTPException(404, "no such recording")
        row = session.get(Recording, recording_id)
        if row is None or row.status not in KEPT_RECORDINGS:
            raise HTTPException(404, "no such recording")
        return row

    @app.get("/recordings/{recording_id}", response_class=HTMLResponse)
    def recording_page(request: Request, session: DB, viewer: Who,
                       recording_id: int) -> HTMLResponse:
        allow(viewer, "search")
        row = recording_or_404(session, recording_id)
        call = session.scalar(select(Call).where(Call.call_id == row.call_id))
        speech = session.scalars(select(SpeechResult).where(
            SpeechResult.call_id == row.call_id).order_by(SpeechResult.at)).all()
        messages = session.scalars(select(MessageText).where(
            MessageText.call_id == row.call_id)).all()
        events = session.scalars(select(CallEvent).where(
            CallEvent.call_id == row.call_id).order_by(CallEvent.at, CallEvent.id)).all()
        reviews = session.scalars(select(QaReview).where(
            QaReview.recording_id == row.id).order_by(QaReview.at)).all()
        tickets = session.scalars(select(Complaint).where(
            Complaint.call_id == row.call_id)).all()
        wrap_ups = session.scalars(select(WrapUp).where(
            WrapUp.call_id == row.call_id).order_by(WrapUp.at)).all()
        return page(request, "recording.html", viewer, row=row, call=call, speech=speech,
                    messages=messages, events=events, reviews=reviews, tickets=tickets,
                    wrap_ups=wrap_ups, checklist=config.checklist)

    def audio_of(row: Recording) -> tuple[int, Callable[[int, int], bytes]]:
        # Defence in depth: only files inside the recordings folder are ever served.
        path = contained(recordings_root, row.path)
        if path is None or not path.is_file():
            raise HTTPException(404, "no such recording")
        return open_audio(path, config.cipher)

    @app.get("/recordings/{recording_id}/audio")
    def audio(request: Request, session: DB, viewer: Who, recording_id: int) -> Response:
        allow(viewer, "play")
        row = recording_or_404(session, recording_id)
        size, read = audio_of(row)
        start, end, partial = _byte_range(request.headers.get("range"), size)
        # Every playback is audited once, wherever it starts: the first request of a
        # viewer for a recording opens one; later ranges in the window are its seeks.
        now = config.now()
        target = f"recording:{row.id}"
        if session.scalar(select(AuditEntry.id).where(
                AuditEntry.actor == viewer.username, AuditEntry.action == "play",
                AuditEntry.target == target,
                AuditEntry.at >= now - PLAYBACK_WINDOW).limit(1)) is None:
            audit.record(session, now, viewer.username, "play", target,
                         f"call {row.call_id}, from byte {start}")
        headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1),
                   "Cache-Control": "no-store"}
        if partial:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Response(read(start, end), status_code=206 if partial else 200,
                        media_type="audio/wav", headers=headers)

    @app.get("/recordings/{recording_id}/download")
    def download(session: DB, viewer: Who, recording_id: int) -> Response:
        allow(viewer, "download")
        row = recording_or_404(session, recording_id)
        size, read = audio_of(row)
        audit.record(session, config.now(), viewer.username, "download",
                     f"recording:{row.id}", f"call {row.call_id}")
        return Response(read(0, size - 1), media_type="audio/wav", headers={
            "Content-Disposition": f'attachment; filename="recording-{row.id}.wav"'})

    @app.post("/recordings/{recording_id}/review")
    async def review(request: Request, session: DB, viewer: Who,
                     recording_id: int) -> Response:
        allow(viewer, "score")
        form = await request.form()
        check_csrf(viewer, str(form.get("csrf", "")))
        row = recording_or_404(session, recording_id)
        known = {item.id for item in config.checklist.items}
        met = {str(key)[5:] for key in form if str(key).startswith("item-")} & known
        notes = str(form.get("notes", "")).strip()[:4000] or None
        score = config.checklist.score(met)
        session.add(QaReview(recording_id=row.id, reviewer=viewer.username,
                             at=config.now(), answers={i: i in met for i in sorted(known)},
                             score=score, notes=notes))
        audit.record(session, config.now(), viewer.username, "score", f"recording:{row.id}",
                     f"{score}%")
        return RedirectResponse(f"/recordings/{row.id}", status_code=303)

    @app.post("/recordings/{recording_id}/hold")
    def hold(session: DB, viewer: Who, recording_id: int, csrf: Annotated[str, Form()],
             action: Annotated[str, Form()], reason: Annotated[str, Form()]) -> Response:
        check_csrf(viewer, csrf)
        if action not in ("hold", "release"):
            raise HTTPException(400, "action is hold or release")
        allow(viewer, action)
        if not reason.strip():
            raise HTTPException(400, "give the reason (case or ticket number)")
        row = recording_or_404(session, recording_id)
        recording_rules.hold(session, row.id, action == "hold", viewer.username,
                             config.now(), reason.strip()[:500])
        return RedirectResponse(f"/recordings/{row.id}", status_code=303)

    # -- complaints, KPIs, audit -----------------------------------------------------------

    @app.get("/complaints", response_class=HTMLResponse)
    def complaints(request: Request, session: DB, viewer: Who,
                   status: str = "") -> HTMLResponse:
        allow(viewer, "complaints")
        query = select(Complaint).order_by(*complaints_by_urgency())
        if status:
            query = query.where(Complaint.status == status)
        now = config.now()
        rows = [(c, overdue(c, now)) for c in session.scalars(query)]
        return page(request, "complaints.html", viewer, rows=rows, status=status)

    @app.get("/followups", response_class=HTMLResponse)
    def follow_ups(request: Request, session: DB, viewer: Who,
                   status: str = "open") -> HTMLResponse:
        allow(viewer, "followups")
        if status not in ("", *follow_up_rules.STATUSES):
            raise HTTPException(400, "status is open, done or empty")
        now = config.now()
        rows = [(f, follow_up_rules.late(f, now))
                for f in follow_up_rules.find(session, status=status or None)]
        # Confirmations the customer never got: an agent tells them some other way.
        undelivered = session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == "failed").order_by(OutboxMessage.created_at.desc())
            .limit(PAGE_SIZE)).all()
        return page(request, "followups.html", viewer, rows=rows, status=status,
                    undelivered=undelivered, mask=mask_number)

    def follow_up_or_404(session: Session, follow_up_id: int) -> FollowUp:
        row = session.get(FollowUp, follow_up_id)
        if row is None:
            raise HTTPException(404, "no such follow-up")
        return row

    @app.get("/followups/{follow_up_id}/audio")
    def follow_up_audio(session: DB, viewer: Who, follow_up_id: int) -> Response:
        allow(viewer, "followups")
        row = follow_up_or_404(session, follow_up_id)
        path = (contained(config.messages_dir, row.message_ref)
                if config.messages_dir is not None else None)
        if path is None or not path.is_file():
            raise HTTPException(404, "the message's file is not on this server")
        audit.record(session, config.now(), viewer.username, "play", f"follow-up:{row.id}",
                     "")
        return Response(path.read_bytes(), media_type="audio/wav",
                        headers={"Cache-Control": "no-store"})

    @app.post("/followups/{follow_up_id}/done")
    def follow_up_done(session: DB, viewer: Who, follow_up_id: int,
                       csrf: Annotated[str, Form()],
                       outcome: Annotated[str, Form()]) -> Response:
        check_csrf(viewer, csrf)
        allow(viewer, "followups")
        row = follow_up_or_404(session, follow_up_id)
        try:
            follow_up_rules.complete(row, config.now(), by=viewer.username, outcome=outcome)
        except follow_up_rules.FollowUpError as exc:
            raise HTTPException(400, str(exc)) from exc
        audit.record(session, config.now(), viewer.username, "follow-up-done",
                     f"follow-up:{row.id}", outcome.strip()[:200])
        return RedirectResponse("/followups", status_code=303)

    def period(day_from: str, day_to: str) -> tuple[date, date]:
        today = config.now().astimezone(local).date()
        try:
            first = date.fromisoformat(day_from) if day_from else today - timedelta(days=6)
            last = date.fromisoformat(day_to) if day_to else today
        except ValueError as exc:
            raise HTTPException(400, "dates are YYYY-MM-DD") from exc
        if not FIRST_DAY <= first <= last <= LAST_DAY:
            raise HTTPException(400, f"give a period from {FIRST_DAY} to {LAST_DAY}, the "
                                     "first day not after the last")
        return first, last

    disposition_labels = {d.code: d.label for d in config.dispositions.dispositions}

    def period_charts(session: Session, first: date, last: date) -> list[dict[str, Any]]:
        return dashboard_charts(kpi_series(session, first, last, KpiSettings(
            timezone=config.timezone)), disposition_labels)

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, session: DB, viewer: Who, day_from: str = "",
                  day_to: str = "") -> HTMLResponse:
        allow(viewer, "kpis")
        first, last = period(day_from, day_to)
        settings = KpiSettings(timezone=config.timezone)
        kpis = compute(session, datetime.combine(first, day_time(0), local),
                       datetime.combine(last + timedelta(days=1), day_time(0), local),
                       config.now(), settings)
        with i18n.speaking(viewer.language):
            charts = period_charts(session, first, last)
        return page(request, "dashboard.html", viewer, kpis=kpis, first=first, last=last,
                    charts=charts, formats=i18n.PageFormats(disposition_labels))

    @app.get("/dashboard/csv")
    def dashboard_csv(session: DB, viewer: Who, chart: str, day_from: str = "",
                      day_to: str = "") -> Response:
        allow(viewer, "kpis")
        if chart not in CHART_IDS:
            raise HTTPException(404, f"no chart {chart!r}; the charts: {', '.join(CHART_IDS)}")
        first, last = period(day_from, day_to)
        with i18n.speaking(viewer.language):
            drawn = next(c for c in period_charts(session, first, last) if c["id"] == chart)
        # A byte-order mark so that spreadsheet programs read the Chinese as UTF-8.
        return Response("\ufeff" + chart_csv(drawn), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename="
                                 f'"kpi-{chart}-{first}-{last}.csv"'})

    @app.get("/wallboard", response_class=HTMLResponse)
    def wallboard(request: Request, session: DB, viewer: Who) -> HTMLResponse:
        allow(viewer, "wallboard")
        board = None
        if config.floor is not None:
            try:
                with config.floor() as ami:
                    board = read_board(ami)
            except (AmiError, TimeoutError) as exc:
                log.warning("wallboard: Asterisk did not answer QueueStatus: %s", exc)
        return page(request, "wallboard.html", viewer,
                    floor=floor_state(session, board, config.now(), config.timezone))

    @app.get("/wallboard/events")
    def wallboard_events(request: Request, viewer: Who) -> Response:
        """Server-sent events: the floor whenever it changes, read from Asterisk over one
        AMI connection per page (reconnected when it drops). Ends like the desk's."""
        allow(viewer, "wallboard")
        token = request.cookies.get(SESSION_COOKIE)

        def stream() -> Iterator[str]:
            last = None
            deadline = time.monotonic() + config.stream_for_s
            ami: Ami | None = None
            try:
                while time.monotonic() < deadline:
                    board = None
                    if config.floor is not None:
                        try:
                            if ami is None or not ami.connected:
                                ami = config.floor()
                                ami.connect()
                                ami.only_events("off")  # the list answers are all it needs
                            board = read_board(ami)
                            ami.history.clear()  # read once, never kept
                        except (AmiError, TimeoutError):
                            if ami is not None:
                                ami.close()
                            ami = None
                    with Session(config.engine) as session, session.begin():
                        if auth.viewer(session, token, config.now()) is None:
                            yield "event: signed-out\ndata: {}\n\n"
                            return
                        state = json.dumps(floor_state(session, board, config.now(),
                                                       config.timezone),
                                           ensure_ascii=False, sort_keys=True)
                    if state != last:
                        last = state
                        yield f"data: {state}\n\n"
                    else:
                        yield ": still here\n\n"
                    time.sleep(config.pop_every_s)
            finally:
                if ami is not None:
                    ami.close()

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    @app.get("/audit", response_class=HTMLResponse)
    def audit_log(request: Request, session: DB, viewer: Who) -> HTMLResponse:
        allow(viewer, "audit")
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())
                                  .limit(500)).all()
        intact = not list(audit.verify_chain(session, config.audit_seal))
        return page(request, "audit.html", viewer, entries=entries, intact=intact)

    # -- the agent desk ---------------------------------------------------------------------

    def agent_of(viewer: auth.Viewer) -> str:
        allow(viewer, "desk")
        if viewer.agent_id is None:
            raise HTTPException(403, "this user is not bound to an agent id")
        return viewer.agent_id

    def desk_state(session: Session, agent_id: str) -> dict[str, Any]:
        offer = current_offer(session, agent_id)
        presence = presence_of(session, [agent_id])[agent_id]
        return {"presence": {"state": presence.state, "reason": presence.reason},
                "pop": screen_pop(session, offer, config.node_words, config.now(),
                                  config.dialects, local) if offer else None}

    @app.get("/desk", response_class=HTMLResponse)
    def desk(request: Request, session: DB, viewer: Who) -> HTMLResponse:
        agent_id = agent_of(viewer)
        phone = config.phones.get(agent_id)
        return page(request, "desk.html", viewer, agent_id=agent_id,
                    phone={"ws": phone.websocket, "uri": phone.uri,
                           "password": phone.password} if phone else None,
                    state=desk_state(session, agent_id), reasons=PAUSE_REASONS,
                    dispositions=config.dispositions.dispositions,
                    categories=COMPLAINT_CATEGORIES,
                    transfer_to=sorted(config.transfer.services) if config.transfer else [],
                    presence_on=config.presence is not None)

    @app.get("/desk/state")
    def desk_now(session: DB, viewer: Who) -> Response:
        return JSONResponse(desk_state(session, agent_of(viewer)))

    @app.get("/desk/events")
    def desk_events(request: Request, viewer: Who) -> Response:
        """Server-sent events: the desk's state whenever it changes (a call rings, is
        answered, ends; presence). Ends after stream_for_s or when the session does."""
        agent_id = agent_of(viewer)
        token = request.cookies.get(SESSION_COOKIE)

        def stream() -> Iterator[str]:
            last = None
            deadline = time.monotonic() + config.stream_for_s
            while time.monotonic() < deadline:
                with Session(config.engine) as session, session.begin():
                    if auth.viewer(session, token, config.now()) is None:
                        yield "event: signed-out\ndata: {}\n\n"
                        return
                    state = json.dumps(desk_state(session, agent_id), ensure_ascii=False,
                                       sort_keys=True)
                if state != last:
                    last = state
                    yield f"data: {state}\n\n"
                else:
                    yield ": still here\n\n"  # a comment: keeps proxies from timing out
                time.sleep(config.pop_every_s)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    @app.post("/desk/presence")
    def desk_presence(session: DB, viewer: Who, csrf: Annotated[str, Form()],
                      state: Annotated[str, Form()],
                      reason: Annotated[str, Form()] = "") -> Response:
        check_csrf(viewer, csrf)
        agent_id = agent_of(viewer)
        if config.presence is None:
            raise HTTPException(503, "presence needs Asterisk (the console runs without it)")
        if state not in ("ready", "paused"):
            raise HTTPException(400, "state is ready or paused")
        try:
            config.presence.set(session, agent_id, state == "paused", reason or None,
                                viewer.username, config.now())
        except PresenceError as exc:
            raise HTTPException(400, str(exc)) from exc
        return RedirectResponse("/desk", status_code=303)

    @app.post("/desk/wrapup")
    def desk_wrap_up(session: DB, viewer: Who, csrf: Annotated[str, Form()],
                     call_id: Annotated[str, Form()], disposition: Annotated[str, Form()],
                     notes: Annotated[str, Form()] = "",
                     arrears_reason: Annotated[str, Form()] = "",
                     follow_up: Annotated[str, Form()] = "",
                     promise_amount: Annotated[str, Form()] = "",
                     promise_date: Annotated[str, Form()] = "") -> Response:
        check_csrf(viewer, csrf)
        agent_id = agent_of(viewer)
        try:
            offer = offer_of(session, agent_id, call_id)
            save_wrap_up(session, offer, config.dispositions, disposition=disposition,
                         notes=notes, arrears_reason=arrears_reason,
                         follow_up=bool(follow_up), promise_amount=promise_amount,
                         promise_date=promise_date, now=config.now())
        except DeskError as exc:
            raise HTTPException(400, str(exc)) from exc
        return RedirectResponse("/desk", status_code=303)

    @app.post("/desk/callback")
    def desk_callback(session: DB, viewer: Who, csrf: Annotated[str, Form()],
                      call_id: Annotated[str, Form()],
                      number: Annotated[str, Form()]) -> Response:
        check_csrf(viewer, csrf)
        try:
            offer = offer_of(session, agent_of(viewer), call_id)
            book_callback(session, offer, config.line, number, config.now())
        except DeskError as exc:
            raise HTTPException(400, str(exc)) from exc
        return RedirectResponse("/desk", status_code=303)

    @app.post("/desk/transfer")
    def desk_transfer(session: DB, viewer: Who, csrf: Annotated[str, Form()],
                      call_id: Annotated[str, Form()],
                      queue: Annotated[str, Form()]) -> Response:
        check_csrf(viewer, csrf)
        if config.transfer is None:
            raise HTTPException(503, "transfers need Asterisk (the console runs without it)")
        try:
            offer = offer_of(session, agent_of(viewer), call_id)
            if offer.status != "answered" or not offer.caller_channel:
                raise DeskError("only a call you are on can be transferred")
            call = session.scalar(select(Call).where(Call.call_id == offer.call_id))
            config.transfer.transfer(offer.caller_channel, queue,
                                     (call.language if call else None) or "cmn")
        except (DeskError, TransferError) as exc:
            raise HTTPException(400, str(exc)) from exc
        audit.record(session, config.now(), viewer.username, "transfer", f"call:{call_id}",
                     queue)
        return RedirectResponse("/desk", status_code=303)

    @app.post("/desk/survey")
    def desk_survey(session: DB, viewer: Who, csrf: Annotated[str, Form()],
                    call_id: Annotated[str, Form()]) -> Response:
        """The agent ends the call and the caller hears the satisfaction survey."""
        check_csrf(viewer, csrf)
        if config.transfer is None:
            raise HTTPException(503, "this needs Asterisk (the console runs without it)")
        try:
            offer = offer_of(session, agent_of(viewer), call_id)
            if offer.status != "answered" or not offer.agent_channel:
                raise DeskError("only a call you are on can be handed to the survey")
            config.transfer.hand_to_survey(offer.agent_channel)
        except (DeskError, TransferError) as exc:
            raise HTTPException(400, str(exc)) from exc
        return RedirectResponse("/desk", status_code=303)

    @app.post("/desk/complaint")
    def desk_complaint(session: DB, viewer: Who, csrf: Annotated[str, Form()],
                       call_id: Annotated[str, Form()], category: Annotated[str, Form()],
                       description: Annotated[str, Form()]) -> Response:
        check_csrf(viewer, csrf)
        try:
            offer = offer_of(session, agent_of(viewer), call_id)
            file_complaint(session, offer, config.tickets, category, description,
                           config.now().astimezone(local))
        except DeskError as exc:
            raise HTTPException(400, str(exc)) from exc
        return RedirectResponse("/desk", status_code=303)

    # -- live ------------------------------------------------------------------------------

    @app.get("/live", response_class=HTMLResponse)
    def live(request: Request, session: DB, viewer: Who, agent: str = "") -> HTMLResponse:
        allow(viewer, "live")
        calls = [c for c in live_calls(session) if not agent or c.agent == agent]
        return page(request, "live.html", viewer, calls=calls, modes=MODES,
                    monitoring=config.monitor is not None, agent=agent, message=None,
                    presence=presence_of(session, list(config.agent_ids)).values())

    @app.post("/live/monitor")
    def monitor(request: Request, session: DB, viewer: Who, csrf: Annotated[str, Form()],
                agent: Annotated[str, Form()], mode: Annotated[str, Form()],
                phone: Annotated[str, Form()], call_id: Annotated[str, Form()]) -> Response:
        check_csrf(viewer, csrf)
        allow(viewer, "live")
        if config.monitor is None:
            raise HTTPException(503, "live monitoring needs Asterisk (hotline console serve)")
        try:
            config.monitor.spy(agent, mode, phone)
        except MonitorError as exc:
            raise HTTPException(400, str(exc)) from exc
        except MonitorUnavailable as exc:
            raise HTTPException(503, f"{exc}; try again shortly") from exc
        audit.record(session, config.now(), viewer.username, f"monitor-{mode}",
                     f"call:{call_id[:64]}", f"agent {agent}, supervisor phone {phone}")
        return page(request, "live.html", viewer, calls=live_calls(session), modes=MODES,
                    monitoring=True, agent="",
                    message=i18n.Phrase(i18n.N_(
                        "Calling your phone %(phone)s to %(mode)s on agent %(agent)s's call."),
                        {"phone": phone, "mode": mode, "agent": agent}))

    return app


def _byte_range(header: str | None, size: int) -> tuple[int, int, bool]:
    """(first, last, partial) for an HTTP Range header over `size` bytes."""
    if not header:
        return 0, size - 1, False
    match = _RANGE.fullmatch(header.strip())
    if match is None or size == 0 or match.groups() == ("", ""):
        raise HTTPException(416, "unsupported range", headers={"Content-Range": f"bytes */{size}"})
    first, last = match.groups()
    if first == "":  # the last N bytes
        start = max(0, size - int(last))
        end = size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise HTTPException(416, "range not satisfiable",
                            headers={"Content-Range": f"bytes */{size}"})
    return start, end, True
