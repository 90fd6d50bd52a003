"""A client of the tailwatch watch server (`tailwatch serve`), in the standard library alone."""

from __future__ import annotations

import datetime
import http.client
import json
import math
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, Union

if TYPE_CHECKING:
    import pandas

from tailwatch._tailwatch import TailwatchError as _Base
from tailwatch._tailwatch import _blake3_hex

__all__ = ["WatchClient", "WatchError", "idempotency_key"]

#: Characters of a server's answer quoted in an error about it.
_QUOTED = 200

#: Connecting may take this long at most, as `tailwatch push` allows (the whole call: `timeout`).
CONNECT_TIMEOUT = 10.0


class SupportsToBytes(Protocol):
    """A profile object: anything with `to_bytes()` giving a `.twp` file's content."""

    def to_bytes(self) -> bytes: ...


#: What `push` and `set_reference` take as a profile: the `.twp` bytes, a path to a `.twp` file,
#: or an object with `to_bytes()` (a `tailwatch.Profile`).
ProfileLike = Union[bytes, bytearray, memoryview, str, os.PathLike[str], SupportsToBytes]

#: Outputs as `push_outputs` and `set_reference` take them: JSONL bytes as they are, or an
#: iterable of texts (one document each) or of JSON objects (records).
Outputs = Union[bytes, bytearray, memoryview, Iterable[Union[str, Mapping[str, Any]]]]


class WatchError(_Base):
    """A call to the watch server failed: it could not be reached, did not answer in time,
    answered with something that is not its JSON, or refused the request.

    `status` is the HTTP status (None when no answer came), `message` the server's own message
    (or what went wrong on the way), `code` the API's error code (`bad_request`, `not_found`,
    `unauthorized`, ...; None when the server sent none) and `url` the URL called.
    """

    status: int | None
    message: str
    url: str
    code: str | None
    method: str

    def __init__(
        self,
        message: str,
        status: int | None = None,
        url: str = "",
        code: str | None = None,
        method: str = "GET",
    ) -> None:
        self.message = message
        self.status = status
        self.url = url
        self.code = code
        self.method = method
        super().__init__(self._render())

    def _render(self) -> str:
        if self.status is None:
            return f"{self.method} {self.url}: {self.message}"
        code = f" ({self.code})" if self.code else ""
        return f"{self.method} {self.url}: HTTP {self.status}{code}: {self.message}"

    def __str__(self) -> str:
        return self._render()

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.status, self.url, self.code, self.method))


def idempotency_key(model: str, version: str, cohort: str, window: str, data: bytes) -> str:
    """The idempotency key `tailwatch push` derives: the hex BLAKE3 of the model, version,
    cohort and window (each followed by a zero byte) and then the pushed bytes, so the same
    push from the CLI and from Python is stored once."""
    parts = b"".join(part.encode() + b"\0" for part in (model, version, cohort, window))
    return _blake3_hex(parts + bytes(data))


class WatchClient:
    """A client of a watch server: `WatchClient("http://127.0.0.1:8787")`.

    `token` is the server's token (default: the environment variable `TAILWATCH_TOKEN`, as for
    `tailwatch push`); writes need it, and reads too unless the server runs with
    `--public-reads`. A call gives up after `timeout` seconds (connecting: at most 10), and
    every failure raises `WatchError`. Answers are the server's JSON as dicts and lists (see
    `/api/v1/openapi.json` and docs/WATCH.md). Redirects are not followed (the API has none; a
    `WatchError` names where one points). A client holds no connection: it can be pickled and
    shared between threads and processes.
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"`url` must be an http:// or https:// URL, found {url!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError(f"`timeout` must be a number of seconds, found {timeout!r}")
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError(f"`timeout` must be a positive number of seconds, found {timeout!r}")
        if token is None:
            token = os.environ.get("TAILWATCH_TOKEN")
        token = token.strip() if token else None
        self.url: str = url.rstrip("/")
        self.token: str | None = token or None
        self.timeout: float = float(timeout)

    def __repr__(self) -> str:
        token = "set" if self.token else "none"
        return f"WatchClient({self.url!r}, token={token}, timeout={self.timeout})"

    # ------------------------------------------------------------------ pushes

    def push(
        self,
        profile: ProfileLike,
        model: str,
        version: str,
        cohort: str | None = None,
        window: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Push a `.twp` profile to `model`/`version`, as `tailwatch push` does:
        `POST /api/v1/models/{model}/versions/{version}/profiles?cohort&window`.

        `profile` is the bytes of a `.twp` file, a path to one, or an object with `to_bytes()`.
        `cohort` defaults to `default` and `window` to today's UTC date. The idempotency key
        defaults to the CLI's (see `idempotency_key`), so a retried push adds nothing. Returns
        the server's answer: `push_id`, `duplicate`, `n_docs`, `version_docs`, `alerts_opened`,
        `alerts_resolved`, `breaching` (what a CI gate fails on) and `not_evaluated`.
        """
        data = _profile_bytes(profile)
        return self._push(
            "profiles", data, "application/octet-stream", (model, version, cohort, window), idempotency_key
        )

    def push_outputs(
        self,
        outputs: Outputs,
        model: str,
        version: str,
        cohort: str | None = None,
        window: str | None = None,
        *,
        field: str | None = None,
        tokenizer: str | None = None,
        lowercase: bool | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Push raw outputs, profiled on the server:
        `POST /api/v1/models/{model}/versions/{version}/outputs` (JSONL).

        `outputs` is JSONL bytes, or an iterable of texts (sent as `{"text": ...}` records, or
        under `field`) or of records (dicts; the text in `field`, default `text`). `tokenizer`
        is a built-in one (`words`, `whitespace`, `python-split`, `items`). The idempotency key
        defaults to one derived as for profiles, from the JSONL sent. Answers as `push`.
        """
        data = _jsonl(outputs, field or "text")
        options = {"field": field, "tokenizer": tokenizer, "lowercase": lowercase}
        return self._push(
            "outputs", data, "application/x-ndjson", (model, version, cohort, window), idempotency_key,
            options,
        )

    def _push(
        self,
        route: str,
        data: bytes,
        content_type: str,
        destination: tuple[str, str, str | None, str | None],
        key: str | None,
        options: Mapping[str, str | bool | None] | None = None,
    ) -> dict[str, Any]:
        model, version, cohort, window = destination
        cohort = "default" if cohort is None else cohort
        window = _today() if window is None else window
        for name, value in (("model", model), ("version", version), ("cohort", cohort), ("window", window)):
            _check_str(name, value)
        if key is None:
            key = idempotency_key(model, version, cohort, window, data)
        _check_str("idempotency_key", key)
        path = f"/models/{_segment(model)}/versions/{_segment(version)}/{route}"
        query = {"cohort": cohort, "window": window, **(options or {})}
        answer = self._call(
            "POST", path, query=query, body=data, content_type=content_type, headers={"Idempotency-Key": key}
        )
        return _object(answer, "push_id", int, self._url(path), "POST")

    def push_record(self, idempotency_key: str) -> dict[str, Any] | None:
        """The stored push with this idempotency key, or None: `GET /api/v1/pushes/{key}`."""
        _check_str("idempotency_key", idempotency_key)
        path = f"/pushes/{_segment(idempotency_key)}"
        try:
            answer = self._call("GET", path)
        except WatchError as error:
            if (error.status, error.code) == (404, "not_found"):
                return None
            raise
        return _object(answer, "push_id", int, self._url(path), "GET")

    # ------------------------------------------------------------------ reads

    def health(self) -> dict[str, Any]:
        """Status, version and totals of the server (public): `GET /api/v1/health`."""
        return _object(self._call("GET", "/health"), "status", str, self._url("/health"), "GET")

    def models(self) -> list[dict[str, Any]]:
        """Every model with its status, latest version and active alerts: `GET /api/v1/models`."""
        return self._list("/models", "models")

    def model(self, model: str) -> dict[str, Any]:
        """A model's versions, baseline and active alerts: `GET /api/v1/models/{model}`."""
        path = f"/models/{_segment(_check_str('model', model))}"
        return _object(self._call("GET", path), "versions", list, self._url(path), "GET")

    def versions(self, model: str) -> list[dict[str, Any]]:
        """A model's versions in arrival order, each with its all-cohorts `metrics`:
        `GET /api/v1/models/{model}/versions`."""
        return self._list(f"/models/{_segment(_check_str('model', model))}/versions", "versions")

    def version(self, model: str, version: str) -> dict[str, Any]:
        """One version with its `cohorts` and `windows`:
        `GET /api/v1/models/{model}/versions/{version}`."""
        path = (
            f"/models/{_segment(_check_str('model', model))}/versions/"
            f"{_segment(_check_str('version', version))}"
        )
        return _object(self._call("GET", path), "version", str, self._url(path), "GET")

    def profile_bytes(self, model: str, version: str, cohort: str | None = None) -> bytes:
        """The merged profile of a version (of one cohort; default all) as `.twp` bytes:
        `GET /api/v1/models/{model}/versions/{version}/profile`."""
        path = (
            f"/models/{_segment(_check_str('model', model))}/versions/"
            f"{_segment(_check_str('version', version))}/profile"
        )
        data = self._call("GET", path, query={"cohort": cohort}, accept="application/octet-stream")
        if not isinstance(data, bytes) or not data.startswith(b"TWPROF"):
            raise WatchError(
                "the answer is not a .twp profile", 200, self._url(path, {"cohort": cohort}), method="GET"
            )
        return data

    def series(
        self, model: str, metric: str, cohort: str | None = None, by: str = "version"
    ) -> dict[str, Any]:
        """A metric over a model's versions (`by="version"`) or their windows (`by="window"`), for
        all cohorts or one: what the dashboard charts. `GET /api/v1/models/{model}/series`.

        The answer holds `points` (`version`, `window`, `n_docs`, `value`, the `baseline` read at
        the point's size, its `band` [low, high] and the ids of `alerts` opened there), the
        `baseline` and the `rules` on the metric with their `threshold` at each point.
        """
        path = f"/models/{_segment(_check_str('model', model))}/series"
        query = {"metric": _check_str("metric", metric), "cohort": cohort, "by": by}
        return _object(self._call("GET", path, query=query), "points", list, self._url(path, query), "GET")

    def compare(self, model: str, baseline: str, candidate: str, cohort: str | None = None) -> dict[str, Any]:
        """Two versions under the default collapse rules, as `tailwatch compare` (`verdict`,
        `checks`, `notes`): `GET /api/v1/models/{model}/compare`."""
        path = f"/models/{_segment(_check_str('model', model))}/compare"
        query = {
            "baseline": _check_str("baseline", baseline),
            "candidate": _check_str("candidate", candidate),
            "cohort": cohort,
        }
        return _object(self._call("GET", path, query=query), "verdict", str, self._url(path, query), "GET")

    def series_frame(
        self, model: str, metric: str, cohort: str | None = None, by: str = "version"
    ) -> pandas.DataFrame:
        """`series` as a pandas DataFrame, one row per point: `version`, `window`, `n_docs`,
        `value`, `baseline`, `band_low`, `band_high` and `alerts` (pandas is imported here)."""
        pd = _pandas("series_frame")
        rows = []
        for point in self.series(model, metric, cohort, by)["points"]:
            band = point.get("band") or (None, None)
            rows.append(
                {
                    "version": point.get("version"),
                    "window": point.get("window"),
                    "n_docs": point.get("n_docs"),
                    "value": point.get("value"),
                    "baseline": point.get("baseline"),
                    "band_low": band[0],
                    "band_high": band[1],
                    "alerts": list(point.get("alerts") or []),
                }
            )
        columns = ["version", "window", "n_docs", "value", "baseline", "band_low", "band_high", "alerts"]
        frame = pd.DataFrame(rows, columns=columns)
        for column in ("value", "baseline", "band_low", "band_high"):
            frame[column] = frame[column].astype("float64")
        return frame

    def versions_frame(self, model: str) -> pandas.DataFrame:
        """`versions` as a pandas DataFrame, one row per version (in arrival order): `version`,
        `seq`, `n_docs`, `n_tokens`, `pushes`, `first_seen`, `last_seen`, then one column per
        metric id (NaN where undefined; pandas is imported here)."""
        pd = _pandas("versions_frame")
        fields = ["version", "seq", "n_docs", "n_tokens", "pushes", "first_seen", "last_seen"]
        metrics: dict[str, None] = {}  # every metric id, in order of appearance
        rows = []
        for entry in self.versions(model):
            row = {field: entry.get(field) for field in fields}
            for metric, value in sorted((entry.get("metrics") or {}).items()):
                metrics.setdefault(metric)
                row[metric] = float("nan") if value is None else value
            rows.append(row)
        return pd.DataFrame(rows, columns=[*fields, *(m for m in metrics if m not in fields)])

    # ------------------------------------------------------------------ baselines

    def baseline(self, model: str) -> dict[str, Any] | None:
        """A model's baseline (`kind`, `version`, `frozen`, `n_docs`, `chunks`, `metrics`), or
        None when it has none: `GET /api/v1/models/{model}/baseline`."""
        path = f"/models/{_segment(_check_str('model', model))}/baseline"
        return self._baseline(self._call("GET", path), path, "GET", optional=True)

    def set_baseline(self, model: str, version: str, freeze: bool = False) -> dict[str, Any]:
        """Make a version the model's baseline (`freeze`: a snapshot that later pushes to it do
        not change): `PUT /api/v1/models/{model}/baseline`."""
        path = f"/models/{_segment(_check_str('model', model))}/baseline"
        body = {"version": _check_str("version", version), "freeze": bool(freeze)}
        return self._baseline(self._call("PUT", path, json_body=body), path, "PUT")

    def freeze_baseline(self, model: str) -> dict[str, Any]:
        """Freeze a model's live version baseline: `POST /api/v1/models/{model}/baseline/freeze`."""
        path = f"/models/{_segment(_check_str('model', model))}/baseline/freeze"
        return self._baseline(self._call("POST", path), path, "POST")

    def set_reference(
        self,
        model: str,
        reference: ProfileLike | Outputs,
        *,
        chunks: int | None = None,
        field: str | None = None,
        tokenizer: str | None = None,
        lowercase: bool | None = None,
    ) -> dict[str, Any]:
        """Make a reference corpus the model's baseline:
        `PUT /api/v1/models/{model}/baseline/reference`.

        `reference` is a profile (`.twp` bytes, a path to one, or an object with `to_bytes()`),
        sent as it is, or texts or records (as `push_outputs` takes them; not bytes), which
        the server profiles and splits into `chunks` (default 10) for adaptive thresholds and a
        held-out reference.
        """
        path = f"/models/{_segment(_check_str('model', model))}/baseline/reference"
        query: dict[str, Any]
        if _is_profile_like(reference):
            if (chunks, field, tokenizer, lowercase) != (None, None, None, None):
                raise ValueError("`chunks`, `field`, `tokenizer`, `lowercase` apply to texts, not profiles")
            data = _profile_bytes(reference)  # type: ignore[arg-type]
            content_type, query = "application/octet-stream", {}
        else:
            data = _jsonl(reference, field or "text")  # type: ignore[arg-type]
            content_type = "application/x-ndjson"
            query = {"chunks": chunks, "field": field, "tokenizer": tokenizer, "lowercase": lowercase}
        answer = self._call("PUT", path, query=query, body=data, content_type=content_type)
        return self._baseline(answer, path, "PUT")

    def _baseline(self, answer: Any, path: str, method: str, optional: bool = False) -> Any:
        if not isinstance(answer, dict) or "baseline" not in answer:
            raise _malformed(answer, "a JSON object with `baseline`", self._url(path), method)
        baseline = answer["baseline"]
        if baseline is None and optional:
            return None
        if not isinstance(baseline, dict):
            raise _malformed(answer, "a baseline object", self._url(path), method)
        return baseline

    # ------------------------------------------------------------------ rules

    def rules(self) -> list[dict[str, Any]]:
        """Every alert rule: `GET /api/v1/rules`."""
        return self._list("/rules", "rules")

    def rule(self, rule_id: int) -> dict[str, Any]:
        """One rule: `GET /api/v1/rules/{id}`."""
        path = f"/rules/{_check_id('rule_id', rule_id)}"
        return _object(self._call("GET", path), "id", int, self._url(path), "GET")

    def add_rule(
        self,
        model: str,
        metric: str,
        kind: str,
        threshold: float | None = None,
        *,
        k: float | None = None,
        name: str | None = None,
        cohort: str | None = None,
        direction: str | None = None,
        min_docs: int | None = None,
        open_after: int | None = None,
        resolve_after: int | None = None,
        enabled: bool | None = None,
    ) -> dict[str, Any]:
        """Create an alert rule and return it with its defaults filled in: `POST /api/v1/rules`.

        `model` is the model it watches (`"*"`: every model), `metric` a metric id, `kind`
        `fixed` (breach past `threshold`), `relative` (past the baseline moved by
        `threshold` × |baseline|, 0.1 = 10 %) or `adaptive` (past the baseline ± `k`·σ).
        `direction` (`above` or `below`) defaults to the metric's collapse direction; without
        `cohort` the rule watches all cohorts together (docs/WATCH.md, "Alert rules").
        """
        spec = _rule_spec(
            model, metric, kind, threshold=threshold, k=k, name=name, cohort=cohort, direction=direction,
            min_docs=min_docs, open_after=open_after, resolve_after=resolve_after, enabled=enabled,
        )
        return _object(self._call("POST", "/rules", json_body=spec), "id", int, self._url("/rules"), "POST")

    def update_rule(
        self,
        rule_id: int,
        model: str,
        metric: str,
        kind: str,
        threshold: float | None = None,
        *,
        k: float | None = None,
        name: str | None = None,
        cohort: str | None = None,
        direction: str | None = None,
        min_docs: int | None = None,
        open_after: int | None = None,
        resolve_after: int | None = None,
        enabled: bool | None = None,
    ) -> dict[str, Any]:
        """Replace a rule (what is not given takes its default; its hysteresis restarts):
        `PUT /api/v1/rules/{id}`. Arguments as `add_rule`."""
        path = f"/rules/{_check_id('rule_id', rule_id)}"
        spec = _rule_spec(
            model, metric, kind, threshold=threshold, k=k, name=name, cohort=cohort, direction=direction,
            min_docs=min_docs, open_after=open_after, resolve_after=resolve_after, enabled=enabled,
        )
        return _object(self._call("PUT", path, json_body=spec), "id", int, self._url(path), "PUT")

    def delete_rule(self, rule_id: int) -> None:
        """Delete a rule; its active alerts resolve: `DELETE /api/v1/rules/{id}`."""
        self._call("DELETE", f"/rules/{_check_id('rule_id', rule_id)}")

    # ------------------------------------------------------------------ alerts

    def alerts(self, state: str | None = None, model: str | None = None) -> list[dict[str, Any]]:
        """Alerts, newest first, of one `state` (`open`, `acknowledged`, `resolved`; default
        all) and one model (default all): `GET /api/v1/alerts?state&model`."""
        query = {"state": state, "model": model}
        return self._list("/alerts", "alerts", query)

    def alert(self, alert_id: int) -> dict[str, Any]:
        """One alert, with `breached_by` (every version that breached its rule while it was
        active): `GET /api/v1/alerts/{id}`."""
        path = f"/alerts/{_check_id('alert_id', alert_id)}"
        return _object(self._call("GET", path), "id", int, self._url(path), "GET")

    def acknowledge(self, alert_id: int, by: str | None = None) -> dict[str, Any]:
        """Acknowledge an open alert (`by`: who; the server's default `api`):
        `POST /api/v1/alerts/{id}/acknowledge`."""
        path = f"/alerts/{_check_id('alert_id', alert_id)}/acknowledge"
        body = {} if by is None else {"by": _check_str("by", by)}
        return _object(self._call("POST", path, json_body=body), "id", int, self._url(path), "POST")

    # ------------------------------------------------------------------ webhooks

    def webhooks(self) -> list[dict[str, Any]]:
        """Webhook subscriptions (their secrets are never returned): `GET /api/v1/webhooks`."""
        return self._list("/webhooks", "webhooks")

    def add_webhook(self, url: str, secret: str | None = None) -> dict[str, Any]:
        """Subscribe `url` to alert events (signed with `secret` when given):
        `POST /api/v1/webhooks`."""
        body: dict[str, Any] = {"url": _check_str("url", url)}
        if secret is not None:
            body["secret"] = _check_str("secret", secret)
        answer = self._call("POST", "/webhooks", json_body=body)
        return _object(answer, "id", int, self._url("/webhooks"), "POST")

    def delete_webhook(self, webhook_id: int) -> None:
        """Delete a webhook: `DELETE /api/v1/webhooks/{id}`."""
        self._call("DELETE", f"/webhooks/{_check_id('webhook_id', webhook_id)}")

    def deliveries(self, webhook_id: int) -> list[dict[str, Any]]:
        """A webhook's deliveries with their attempts and errors:
        `GET /api/v1/webhooks/{id}/deliveries`."""
        return self._list(f"/webhooks/{_check_id('webhook_id', webhook_id)}/deliveries", "deliveries")

    # ------------------------------------------------------------------ transport

    def _url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        url = f"{self.url}/api/v1{path}"
        pairs = _query_pairs(query or {})
        return f"{url}?{urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)}" if pairs else url

    def _list(self, path: str, key: str, query: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        answer = self._call("GET", path, query=query)
        if not isinstance(answer, dict) or not isinstance(answer.get(key), list):
            raise _malformed(answer, f"a JSON object with `{key}` (a list)", self._url(path, query), "GET")
        return answer[key]

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> Any:
        """One request; its answer: parsed JSON, bytes (when `accept` is not JSON), or None for
        204. Every failure is a `WatchError`, within about `timeout`."""
        url = self._url(path, query)
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Accept", accept)
        request.add_header("User-Agent", "tailwatch-python")
        if content_type is not None:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        deadline = time.monotonic() + self.timeout
        sockets: list[socket.socket] = []
        # redirects are not followed: the API has none, and following one would send the token on
        opener = urllib.request.build_opener(
            _NoRedirects, _HTTPHandler(deadline, sockets), _HTTPSHandler(deadline, sockets)
        )
        try:
            try:
                response = opener.open(request, timeout=min(CONNECT_TIMEOUT, self.timeout))
            except urllib.error.HTTPError as refused:
                with refused:
                    data = _read(refused, deadline, sockets)
                raise self._refused(refused.code, refused.headers, data, method, url) from None
            with response:
                status = response.status
                data = _read(response, deadline, sockets)
        except WatchError:
            raise
        except TimeoutError:
            raise WatchError(f"no answer within {self.timeout:g} s", None, url, method=method) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError) and not sockets:
                connect = min(CONNECT_TIMEOUT, self.timeout)
                message = f"cannot reach the server: no connection within {connect:g} s"
                raise WatchError(message, None, url, method=method) from None
            if isinstance(error.reason, TimeoutError):
                raise WatchError(f"no answer within {self.timeout:g} s", None, url, method=method) from None
            raise WatchError(f"cannot reach the server: {error.reason}", None, url, method=method) from None
        except (http.client.HTTPException, OSError) as error:
            reason = str(error) or type(error).__name__
            raise WatchError(f"the connection failed: {reason}", None, url, method=method) from None
        if status == 204:
            return None
        if accept != "application/json":
            return data
        try:
            return json.loads(data)
        except ValueError as error:
            raise WatchError(
                f"the answer is not JSON ({error}): {_quote(data)}", status, url, method=method
            ) from None

    def _refused(self, status: int, headers: Any, data: bytes, method: str, url: str) -> WatchError:
        if 300 <= status < 400:
            location = headers.get("Location") if headers is not None else None
            return WatchError(
                f"the server redirects to {location or 'another URL'}; give the client that URL",
                status, url, method=method,
            )
        try:
            detail = json.loads(data)["error"]
            message, code = detail["message"], detail["code"]
            if not isinstance(message, str) or not isinstance(code, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            message = f"the answer is not the server's JSON error: {_quote(data)}"
            return WatchError(message, status, url, method=method)
        if status == 401 and not self.token:
            message += " (no token given: pass `token=` or set TAILWATCH_TOKEN)"
        return WatchError(message, status, url, code, method)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Turns a redirect into the `HTTPError` it is, instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _remaining(deadline: float) -> float:
    """Seconds left before `deadline`; a timeout at once when none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


class _Connection(http.client.HTTPConnection):
    """A connection that, once connected (within the connect timeout), waits at most what is
    left of the call's deadline, and hands its socket over so reading the body can be held to
    the deadline too."""

    def __init__(self, *args: Any, deadline: float, sockets: list[socket.socket], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline, self._sockets = deadline, sockets

    def connect(self) -> None:
        super().connect()
        self.sock.settimeout(_remaining(self._deadline))
        self._sockets.append(self.sock)


class _TLSConnection(http.client.HTTPSConnection):
    """`_Connection` over TLS."""

    def __init__(self, *args: Any, deadline: float, sockets: list[socket.socket], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline, self._sockets = deadline, sockets

    def connect(self) -> None:
        super().connect()
        self.sock.settimeout(_remaining(self._deadline))
        self._sockets.append(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: float, sockets: list[socket.socket]) -> None:
        super().__init__()
        self._deadline, self._sockets = deadline, sockets

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_Connection, req, deadline=self._deadline, sockets=self._sockets)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: float, sockets: list[socket.socket]) -> None:
        super().__init__()
        self._deadline, self._sockets = deadline, sockets

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _TLSConnection, req, context=self._context, deadline=self._deadline, sockets=self._sockets
        )


def _read(response: Any, deadline: float, sockets: list[socket.socket]) -> bytes:
    """A response's body, read within the call's deadline: before each read the socket may wait
    only what is left of it, so a server that trickles its answer cannot hold the call."""
    chunks = []
    while True:
        left = _remaining(deadline)
        if sockets:
            try:
                sockets[-1].settimeout(left)
            except OSError:
                pass  # closed once the whole body was read: the next read returns b""
        chunk = response.read1(1 << 16)  # what one read of the socket gives, not a full 64 KiB
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _malformed(answer: Any, expected: str, url: str, method: str) -> WatchError:
    text = json.dumps(answer)[:_QUOTED]
    return WatchError(f"malformed answer: expected {expected}, found {text}", 200, url, method=method)


def _object(answer: Any, key: str, kind: type, url: str, method: str) -> dict[str, Any]:
    """`answer` if it is a JSON object holding `key` of type `kind`."""
    value = answer.get(key) if isinstance(answer, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _malformed(answer, f"a JSON object with `{key}`", url, method)
    return answer


def _quote(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    if not text:
        return "(empty)"
    return text[:_QUOTED] + ("..." if len(text) > _QUOTED else "")


def _query_pairs(query: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in query.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int):
            value = str(value)
        else:
            _check_str(name, value)
        pairs.append((name, value))
    return pairs


def _segment(name: str) -> str:
    """A path segment, percent-encoded as the Rust client does (all but unreserved characters)."""
    return urllib.parse.quote(name, safe="")


def _check_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be a str, found {type(value).__name__}")
    return value


def _check_id(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an int, found {type(value).__name__}")
    return value


def _today() -> str:
    """Today's UTC date, the window `tailwatch push` and the server default to."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def _is_profile_like(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview, str, os.PathLike)) or (
        callable(getattr(value, "to_bytes", None)) and not isinstance(value, int)
    )


def _profile_bytes(profile: ProfileLike) -> bytes:
    """The `.twp` bytes of a profile given as bytes, a path or an object with `to_bytes()`."""
    if isinstance(profile, (bytes, bytearray, memoryview)):
        return bytes(profile)
    if isinstance(profile, (str, os.PathLike)):
        with open(profile, "rb") as file:
            return file.read()
    to_bytes = getattr(profile, "to_bytes", None)
    if callable(to_bytes) and not isinstance(profile, int):
        data = to_bytes()
        if isinstance(data, (bytes, bytearray, memoryview)):
            return bytes(data)
        kind = type(profile).__name__
        raise TypeError(f"`{kind}.to_bytes()` must return bytes, found {type(data).__name__}")
    raise TypeError(
        "a profile must be bytes, a path to a .twp file, or an object with `to_bytes()`, "
        f"found {type(profile).__name__}"
    )


def _jsonl(outputs: Outputs, field: str) -> bytes:
    """Outputs as JSONL: bytes as they are; texts as records holding them at `field` (a dotted
    path: `response.text` is `{"response": {"text": ...}}`); records as given."""
    if isinstance(outputs, (bytes, bytearray, memoryview)):
        return bytes(outputs)
    if isinstance(outputs, (str, Mapping)) or not isinstance(outputs, Iterable):
        raise TypeError(
            "outputs must be JSONL bytes or an iterable of texts or records, "
            f"found {type(outputs).__name__}"
        )
    lines = []
    for number, item in enumerate(outputs, 1):
        if isinstance(item, str):
            record: Any = item
            for key in reversed(field.split(".")):  # a dotted path names nested fields
                record = {key: record}
        elif isinstance(item, Mapping):
            record = dict(item)
        else:
            raise TypeError(f"output {number} must be a str or a dict, found {type(item).__name__}")
        lines.append(json.dumps(record, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _rule_spec(model: str, metric: str, kind: str, **optional: Any) -> dict[str, Any]:
    """A rule as the server takes it: the fields given, the server's defaults for the others."""
    spec: dict[str, Any] = {
        "model": _check_str("model", model),
        "metric": _check_str("metric", metric),
        "kind": _check_str("kind", kind),
    }
    spec.update({key: value for key, value in optional.items() if value is not None})
    return spec


def _pandas(caller: str) -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError(f"`{caller}` needs pandas: pip install pandas") from None
    return pandas
