"""`tailwatch.watch` against a real `tailwatch serve` (this checkout's debug binary, or `$TAILWATCH_BIN`)."""

from __future__ import annotations

import http.server
import json
import os
import pickle
import queue
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import tailwatch
from tailwatch import watch
from tailwatch.watch import WatchClient, WatchError, idempotency_key

REPO = Path(__file__).resolve().parents[3]
TOKEN = "python-watch-test-token"


def tailwatch_bin() -> Path:
    path = Path(os.environ.get("TAILWATCH_BIN") or REPO / "target" / "debug" / "tailwatch")
    if not path.is_file():
        message = f"no tailwatch binary at {path}: `cargo build -p tailwatch-cli`, or set TAILWATCH_BIN"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class Server:
    url: str
    bin: Path
    work: Path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`tailwatch serve` on a free loopback port and a fresh database, for the whole session."""
    binary = tailwatch_bin()
    work = tmp_path_factory.mktemp("watch")
    child = subprocess.Popen(
        [str(binary), "serve", "--db", str(work / "watch.db"), "--addr", "127.0.0.1:0", "-q"]
        + ["--threads", "2"],
        env={**os.environ, "TAILWATCH_TOKEN": TOKEN},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # the server never blocks on a full pipe
        assert child.stderr is not None
        for line in child.stderr:
            lines.put(line)

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    try:
        try:
            first = lines.get(timeout=30)
        except queue.Empty:
            pytest.fail(f"tailwatch serve printed nothing in 30 s (exit status {child.poll()})")
        # `tailwatch serve: http://127.0.0.1:PORT/ (database ...)`
        assert first.startswith("tailwatch serve: http://"), first
        url = first.split()[2].rstrip("/")
        health = WatchClient(url, timeout=5).health()
        assert health["status"] == "ok"
        yield Server(url, binary, work)
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        drainer.join(timeout=5)
        assert child.stderr is not None
        child.stderr.close()


@dataclass
class Profiles:
    v1_parts: list[Path]  # three pushes of 100 healthy documents: the baseline, in chunks
    collapsed: Path  # 300 documents, three texts repeated
    healthy: Path  # 300 other healthy documents
    healthy_texts: list[str]


def generated_texts(rng: random.Random, vocabulary: list[str], n: int) -> list[str]:
    return [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 16))) for _ in range(n)]


@pytest.fixture(scope="session")
def profiles(server: Server) -> Profiles:
    """`.twp` profiles of generated corpora, made with `tailwatch profile`."""
    rng = random.Random(7)
    syllables = "ka lo mi ne ru ta vo zi sha pe du gri fa bo le xi".split()
    words = {"".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))) for _ in range(3000)}
    vocabulary = sorted(words)
    texts = generated_texts(rng, vocabulary, 600)
    few = generated_texts(rng, vocabulary, 3)

    def profile(name: str, lines: list[str]) -> Path:
        corpus = server.work / f"{name}.txt"
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = server.work / f"{name}.twp"
        run = subprocess.run(
            [str(server.bin), "profile", str(corpus), "-o", str(out), "-q", "--threads", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        return out

    parts = [profile(f"v1-{i}", texts[i * 100 : (i + 1) * 100]) for i in range(3)]
    collapsed = profile("collapsed", [few[i % 3] for i in range(300)])
    healthy = profile("healthy", texts[300:])
    return Profiles(parts, collapsed, healthy, texts[300:])


def client(server: Server, **options: object) -> WatchClient:
    return WatchClient(server.url, token=TOKEN, **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the whole watch


def test_baseline_rule_collapse_alert_and_reads(server: Server, profiles: Profiles) -> None:
    c = client(server)
    model = "py-chat"
    for day, part in enumerate(profiles.v1_parts, 1):
        pushed = c.push(part, model, "v1", window=f"2026-01-0{day}")
        assert (pushed["duplicate"], pushed["n_docs"], pushed["window"]) == (False, 100, f"2026-01-0{day}")
    assert (pushed["version_docs"], pushed["version_pushes"], pushed["cohort"]) == (300, 3, "default")
    baseline = c.set_baseline(model, "v1", freeze=True)
    assert (baseline["kind"], baseline["version"], baseline["frozen"]) == ("version", "v1", True)
    assert baseline["chunks"] == 3, "its three pushes"
    assert c.baseline(model) == baseline
    rule = c.add_rule(model, "distinct_2", "relative", 0.2, name="diversity")
    assert (rule["metric"], rule["kind"], rule["threshold"]) == ("distinct_2", "relative", 0.2)
    defaults = (rule["direction"], rule["min_docs"], rule["open_after"], rule["enabled"])
    assert defaults == ("below", 1, 1, True), "the server fills in its defaults"
    assert rule in c.rules()
    assert c.rule(rule["id"]) == rule

    # a collapsed version opens an alert on the push itself ...
    collapsed = c.push(profiles.collapsed, model, "v2", window="2026-01-04")
    assert [a["metric"] for a in collapsed["alerts_opened"]] == ["distinct_2"]
    alert = collapsed["alerts_opened"][0]
    assert collapsed["breaching"][0]["rule_id"] == rule["id"]
    assert collapsed["breaching"][0]["alert_id"] == alert["id"]
    # ... and the alert reads back, open, with the version that breached
    assert [a["id"] for a in c.alerts(state="open", model=model)] == [alert["id"]]
    assert alert["id"] in [a["id"] for a in c.alerts()]
    assert c.alerts(model="py-nobody") == []
    assert [b["version"] for b in c.alert(alert["id"])["breached_by"]] == ["v2"]
    assert [m["status"] for m in c.models() if m["model"] == model] == ["alerting"]

    # the series the dashboard charts: the collapse, the baseline band, the rule's threshold
    series = c.series(model, "distinct_2")
    points = series["points"]
    assert [p["version"] for p in points] == ["v1", "v2"]
    assert points[1]["value"] < 0.5 * points[0]["value"]
    assert points[1]["alerts"] == [alert["id"]] and points[0]["alerts"] == []
    low, high = points[0]["band"]
    assert low < points[0]["baseline"] < high
    assert series["baseline"]["chunks"] == 3
    [on_metric] = series["rules"]
    assert on_metric["rule"]["id"] == rule["id"]
    assert on_metric["threshold"] == pytest.approx(0.8 * points[1]["baseline"])
    assert points[1]["value"] < on_metric["threshold"] < points[0]["value"]
    by_window = c.series(model, "distinct_2", by="window")
    assert [(p["version"], p["window"]) for p in by_window["points"]] == [
        ("v1", "2026-01-01"), ("v1", "2026-01-02"), ("v1", "2026-01-03"), ("v2", "2026-01-04"),
    ]
    assert [p["version"] for p in c.series(model, "distinct_2", cohort="default")["points"]] == ["v1", "v2"]

    frame = c.series_frame(model, "distinct_2")
    assert list(frame["version"]) == ["v1", "v2"]
    assert list(frame["value"]) == pytest.approx([p["value"] for p in points])
    assert frame["band_low"][0] == pytest.approx(low) and frame["band_high"][0] == pytest.approx(high)
    assert list(frame["alerts"]) == [[], [alert["id"]]]

    versions = c.versions(model)
    assert [(v["version"], v["n_docs"], v["pushes"]) for v in versions] == [("v1", 300, 3), ("v2", 300, 1)]
    assert versions[1]["metrics"]["distinct_2"] == pytest.approx(points[1]["value"])
    table = c.versions_frame(model)
    assert list(table.columns[:3]) == ["version", "seq", "n_docs"]
    assert list(table["distinct_2"]) == pytest.approx([p["value"] for p in points])
    detail = c.version(model, "v1")
    windows = sorted((w["cohort"], w["window"], w["n_docs"]) for w in detail["windows"])
    assert windows == [(c, f"2026-01-0{d}", 100) for c in ("*", "default") for d in (1, 2, 3)]
    assert [(k["cohort"], k["n_docs"]) for k in detail["cohorts"]] == [("default", 300)]
    assert [v["version"] for v in c.model(model)["versions"]] == ["v1", "v2"]
    assert c.compare(model, "v1", "v2")["verdict"] == "collapse"
    assert c.compare(model, "v1", "v2", cohort="default")["verdict"] == "collapse"

    # the merged profile downloads as .twp bytes and pushes again as it is
    merged = c.profile_bytes(model, "v1")
    assert merged.startswith(b"TWPROF")
    assert c.push(merged, "py-chat-copy", "v1")["n_docs"] == 300

    # acknowledged, then resolved by a healthy version
    acknowledged = c.acknowledge(alert["id"], by="pytest")
    assert (acknowledged["state"], acknowledged["acknowledged_by"]) == ("acknowledged", "pytest")
    assert c.alerts(state="open", model=model) == []
    assert [m["status"] for m in c.models() if m["model"] == model] == ["acknowledged"]
    healthy = c.push(profiles.healthy, model, "v3", window="2026-01-05")
    assert healthy["breaching"] == []
    assert [a["id"] for a in healthy["alerts_resolved"]] == [alert["id"]]
    assert c.alert(alert["id"])["state"] == "resolved"

    # rules change and go
    updated = c.update_rule(rule["id"], model, "distinct_2", "relative", 0.5, min_docs=50)
    assert (updated["id"], updated["threshold"], updated["min_docs"]) == (rule["id"], 0.5, 50)
    assert updated["name"] is None, "replaced, not merged"
    assert c.delete_rule(rule["id"]) is None
    assert rule["id"] not in [r["id"] for r in c.rules()]
    with pytest.raises(WatchError) as missing:
        c.rule(rule["id"])
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert f"no rule {rule['id']}" in missing.value.message


def test_push_sends_what_the_cli_sends(server: Server, profiles: Profiles) -> None:
    """Same route, body and idempotency key: a push from Python repeats one from `tailwatch push`."""
    model, window = "py-cli", "2026-03-03"
    run = subprocess.run(
        [str(server.bin), "push", str(profiles.healthy), "--server", server.url, "--model", model,
         "--model-version", "v1", "--window", window, "--json", "-q"],
        env={**os.environ, "TAILWATCH_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    by_cli = json.loads(run.stdout)
    assert by_cli["duplicate"] is False

    class Profile:  # what `tailwatch.Profile` offers
        def to_bytes(self) -> bytes:
            return profiles.healthy.read_bytes()

    c = client(server)
    for given in (str(profiles.healthy), profiles.healthy, profiles.healthy.read_bytes(), Profile()):
        again = c.push(given, model, "v1", window=window)
        assert (again["duplicate"], again["push_id"], again["version_pushes"]) == (True, by_cli["push_id"], 1)
    key = idempotency_key(model, "v1", "default", window, profiles.healthy.read_bytes())
    record = c.push_record(key)
    assert record is not None
    assert (record["push_id"], record["idempotency_key"]) == (by_cli["push_id"], key)
    assert c.push_record("no-such-key") is None
    # another window is another push; the same key for another destination is refused
    assert c.push(profiles.healthy, model, "v1", window="2026-03-04")["duplicate"] is False
    with pytest.raises(WatchError) as reused:
        c.push(profiles.healthy, model, "v2", window=window, idempotency_key=key)
    assert (reused.value.status, reused.value.code) == (409, "conflict")
    assert "was used for py-cli/v1" in reused.value.message


def test_push_defaults_to_the_default_cohort_and_todays_window(server: Server, profiles: Profiles) -> None:
    before = time.strftime("%Y-%m-%d", time.gmtime())
    pushed = client(server).push(profiles.collapsed, "py-defaults", "v1")
    assert pushed["cohort"] == "default"
    assert pushed["window"] in {before, time.strftime("%Y-%m-%d", time.gmtime())}, "today's UTC date"


def test_names_are_encoded_in_the_path(server: Server, profiles: Profiles) -> None:
    c = client(server)
    model, version = "chat é ?&=#%", "v 1+2"
    pushed = c.push(profiles.collapsed, model, version, cohort="eu west", window="2026-05-05")
    assert (pushed["model"], pushed["version"], pushed["cohort"]) == (model, version, "eu west")
    assert [v["version"] for v in c.versions(model)] == [version]
    assert model in [m["model"] for m in c.models()]
    with pytest.raises(WatchError) as slash:
        c.push(profiles.collapsed, "a/b", "v1")
    assert slash.value.status == 400 and "field `model`" in slash.value.message


def test_push_outputs_and_reference_baselines(server: Server, profiles: Profiles) -> None:
    c = client(server)
    texts = profiles.healthy_texts[:120]
    pushed = c.push_outputs(texts, "py-outputs", "v1", window="2026-02-01")
    assert (pushed["n_docs"], pushed["duplicate"]) == (120, False)
    assert c.push_outputs(texts, "py-outputs", "v1", window="2026-02-01")["duplicate"] is True
    records = [{"response": {"text": t.upper()}} for t in texts[:50]]
    lowered = c.push_outputs(
        records, "py-outputs", "v2", field="response.text", lowercase=True, tokenizer="whitespace"
    )
    assert lowered["n_docs"] == 50
    nested = c.push_outputs(texts[:40], "py-outputs", "v5", cohort="nested", field="response.text")
    assert (nested["n_docs"], nested["cohort"]) == (40, "nested")
    jsonl = "".join(json.dumps({"text": t}) + "\n" for t in texts[:30]).encode()
    assert c.push_outputs(jsonl, "py-outputs", "v3")["n_docs"] == 30
    with pytest.raises(WatchError) as tokenizer:
        c.push_outputs(texts, "py-outputs", "v4", tokenizer="no-such-tokenizer")
    assert tokenizer.value.status == 400 and "no-such-tokenizer" in tokenizer.value.message
    with pytest.raises(TypeError):
        c.push_outputs("one text, not a list of texts", "py-outputs", "v4")  # type: ignore[arg-type]

    reference = c.set_reference("py-outputs", profiles.healthy_texts, chunks=4)
    assert (reference["kind"], reference["chunks"], reference["n_docs"]) == ("reference", 4, 300)
    assert c.baseline("py-outputs")["kind"] == "reference"  # type: ignore[index]
    assert c.set_reference("py-outputs", profiles.healthy)["n_docs"] == 300
    with pytest.raises(ValueError):
        c.set_reference("py-outputs", profiles.healthy, chunks=4)

    # a live version baseline freezes once
    c.push(profiles.collapsed, "py-freeze", "v1")
    assert c.baseline("py-freeze") is None
    assert c.set_baseline("py-freeze", "v1")["frozen"] is False
    assert c.freeze_baseline("py-freeze")["frozen"] is True
    with pytest.raises(WatchError) as frozen:
        c.freeze_baseline("py-freeze")
    assert (frozen.value.status, frozen.value.code) == (409, "conflict")
    assert "already frozen" in frozen.value.message


def test_webhooks(server: Server) -> None:
    c = client(server)
    hook = c.add_webhook("http://127.0.0.1:9/hook", secret="s3cret")
    assert (hook["url"], hook["signed"]) == ("http://127.0.0.1:9/hook", True)
    assert "secret" not in hook
    assert hook["id"] in [h["id"] for h in c.webhooks()]
    assert c.deliveries(hook["id"]) == []
    assert c.delete_webhook(hook["id"]) is None
    assert hook["id"] not in [h["id"] for h in c.webhooks()]
    with pytest.raises(WatchError) as bad:
        c.add_webhook("ftp://example.com/")
    assert bad.value.status == 400 and "field `url`" in bad.value.message


# ---------------------------------------------------------------------- errors


def test_wrong_or_missing_token(server: Server, profiles: Profiles, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = WatchClient(server.url, token="not-the-token")
    with pytest.raises(WatchError) as refused:
        wrong.push(profiles.collapsed, "py-token", "v1")
    error = refused.value
    assert (error.status, error.code, error.message) == (401, "unauthorized", "the token is not valid")
    assert error.url.startswith(f"{server.url}/api/v1/models/py-token/versions/v1/profiles?")
    assert str(error).startswith(f"POST {server.url}/api/v1/models/py-token/") and "HTTP 401" in str(error)
    with pytest.raises(WatchError) as read:
        wrong.models()
    assert read.value.status == 401

    monkeypatch.delenv("TAILWATCH_TOKEN", raising=False)
    anonymous = WatchClient(server.url)
    assert anonymous.token is None
    assert anonymous.health()["status"] == "ok", "health is public"
    with pytest.raises(WatchError) as missing:
        anonymous.models()
    assert missing.value.status == 401 and "TAILWATCH_TOKEN" in missing.value.message

    monkeypatch.setenv("TAILWATCH_TOKEN", f" {TOKEN}\n")
    assert isinstance(WatchClient(server.url).models(), list), "the token comes from TAILWATCH_TOKEN"


def test_refusals_carry_the_servers_message(server: Server) -> None:
    c = client(server)
    with pytest.raises(WatchError) as not_a_profile:
        c.push(b"these bytes are not a profile", "py-bad", "v1")
    error = not_a_profile.value
    assert (error.status, error.code) == (400, "bad_request")
    assert "is not a tailwatch profile" in error.message and error.message in str(error)
    with pytest.raises(WatchError) as unknown:
        c.versions("py-nobody")
    assert (unknown.value.status, unknown.value.message) == (404, "no model `py-nobody` (push to it first)")
    with pytest.raises(WatchError) as metric:
        c.series("py-nobody", "no_such_metric")
    assert metric.value.status == 400 and "unknown metric id `no_such_metric`" in metric.value.message
    with pytest.raises(WatchError) as rule:
        c.add_rule("py-bad", "distinct_2", "relative")
    assert rule.value.status == 400 and "field `threshold` is required" in rule.value.message
    with pytest.raises(WatchError) as state:
        c.alerts(state="closed")
    assert state.value.status == 400 and "parameter `state`" in state.value.message


def test_server_not_running_fails_fast() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(WatchError) as refused:
        WatchClient(f"http://127.0.0.1:{port}", token="t", timeout=20).models()
    assert time.monotonic() - started < 3
    assert refused.value.status is None
    assert f"http://127.0.0.1:{port}/api/v1/models" in str(refused.value)
    assert "cannot reach the server" in refused.value.message


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback socket that accepts connections (the backlog does) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock
    sock.close()


def test_a_server_that_never_answers_times_out(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(WatchError) as silent:
        WatchClient(f"http://127.0.0.1:{port}", token="t", timeout=0.5).models()
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 2.5, elapsed
    assert silent.value.status is None and silent.value.message == "no answer within 0.5 s"


def test_a_server_that_trickles_its_answer_times_out(listener: socket.socket) -> None:
    """Each byte arrives within the socket timeout, so only the call's deadline ends it."""
    stop = threading.Event()

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            connection.sendall(b"Content-Length: 1000\r\n\r\n")
            while not stop.is_set():
                try:
                    connection.sendall(b" ")
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    started = time.monotonic()
    try:
        with pytest.raises(WatchError) as slow:
            WatchClient(f"http://127.0.0.1:{port}", token="t", timeout=1.0).models()
    finally:
        stop.set()
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 3, elapsed
    assert slow.value.message == "no answer within 1 s"


class FakeServer(http.server.BaseHTTPRequestHandler):
    """Answers that are not the watch server's: HTML, wrong JSON, a proxy's 502, a redirect."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        FakeServer.seen.append((self.path, self.headers.get("Authorization")))
        routes = {
            "/api/v1/models": (200, "text/html", b"<html><body>a login page</body></html>"),
            "/api/v1/rules": (200, "application/json", b'{"unexpected": true}'),
            "/api/v1/alerts": (502, "text/html", b"<html>502 Bad Gateway</html>"),
            "/api/v1/webhooks": (302, "text/html", b""),
            "/api/v1/health": (200, "application/json", b'{"status": "ok", "version": "x"'),
        }
        status, content_type, body = routes.get(self.path, (404, "text/plain", b"nothing here"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 302:
            self.send_header("Location", "http://elsewhere.example/api/v1/webhooks")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[WatchClient]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    FakeServer.seen = []
    yield WatchClient(f"http://127.0.0.1:{httpd.server_address[1]}", token="t", timeout=5)
    httpd.shutdown()
    httpd.server_close()


def test_answers_that_are_not_the_servers_json(fake: WatchClient) -> None:
    with pytest.raises(WatchError) as html:
        fake.models()
    assert html.value.status == 200 and "the answer is not JSON" in html.value.message
    assert "a login page" in html.value.message
    with pytest.raises(WatchError) as shape:
        fake.rules()
    assert "malformed answer: expected a JSON object with `rules`" in shape.value.message
    with pytest.raises(WatchError) as gateway:
        fake.alerts()
    assert (gateway.value.status, gateway.value.code) == (502, None)
    assert "not the server's JSON error" in gateway.value.message
    assert "502 Bad Gateway" in gateway.value.message
    with pytest.raises(WatchError) as cut:
        fake.health()
    assert "the answer is not JSON" in cut.value.message


def test_redirects_are_not_followed(fake: WatchClient) -> None:
    with pytest.raises(WatchError) as moved:
        fake.webhooks()
    assert moved.value.status == 302
    assert "http://elsewhere.example/api/v1/webhooks" in moved.value.message
    assert FakeServer.seen == [("/api/v1/webhooks", "Bearer t")], "one request, the token not sent on"


def test_https_to_a_plain_http_server_fails_clearly(fake: WatchClient) -> None:
    tls = WatchClient(fake.url.replace("http://", "https://"), token="t", timeout=5)
    started = time.monotonic()
    with pytest.raises(WatchError) as handshake:
        tls.models()
    assert time.monotonic() - started < 3
    assert handshake.value.status is None and handshake.value.url.startswith("https://")
    assert "SSL" in handshake.value.message or "ssl" in handshake.value.message


# ---------------------------------------------------------------------- the client itself


def test_errors_and_clients_pickle() -> None:
    error = WatchError("the token is not valid", 401, "http://h:1/api/v1/models", "unauthorized", "GET")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is WatchError
    assert (back.status, back.message, back.url, back.code, back.method) == (
        401, "the token is not valid", "http://h:1/api/v1/models", "unauthorized", "GET",
    )
    assert str(back) == str(error)
    assert str(error) == "GET http://h:1/api/v1/models: HTTP 401 (unauthorized): the token is not valid"
    transport = pickle.loads(pickle.dumps(WatchError("cannot reach the server: refused", url="http://h:1/x")))
    assert transport.status is None and str(transport) == "GET http://h:1/x: cannot reach the server: refused"

    c = WatchClient("http://h:1/", token="secret", timeout=3)
    again = pickle.loads(pickle.dumps(c))
    assert (again.url, again.token, again.timeout) == ("http://h:1", "secret", 3.0)
    assert "secret" not in repr(c)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        WatchClient("127.0.0.1:8787")
    with pytest.raises(ValueError):
        WatchClient("http://h:1", timeout=0)
    with pytest.raises(ValueError):
        WatchClient("http://h:1", timeout=float("inf"))
    c = WatchClient("http://127.0.0.1:9", token="t", timeout=1)
    with pytest.raises(TypeError):
        c.push(12345, "m", "v")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        c.push("/nonexistent/profile.twp", "m", "v")
    with pytest.raises(TypeError):
        c.rule("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c.versions(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("length", "expected"),
    [  # the BLAKE3 team's test vectors (input: 0, 1, ..., 250, 0, 1, ...)
        (0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"),
        (1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"),
        (1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"),
        (1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"),
        (1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"),
        (2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"),
        (3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"),
        (5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"),
        (8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"),
        (31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"),
    ],
)
def test_blake3_matches_the_reference(length: int, expected: str) -> None:
    assert watch._blake3_hex(bytes(i % 251 for i in range(length))) == expected


def test_importing_the_client_does_not_import_pandas() -> None:
    code = (
        "import sys, tailwatch; before = set(sys.modules); import tailwatch.watch; "
        "new = set(sys.modules) - before; "
        "assert not [m for m in new if m.split('.')[0] == 'pandas'], sorted(new)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_watch_error_is_a_tailwatch_error_and_pickles() -> None:
    assert issubclass(WatchError, tailwatch.TailwatchError)
    error = pickle.loads(pickle.dumps(WatchError("m", 500, "http://h/x", "internal")))
    assert isinstance(error, tailwatch.TailwatchError) and error.status == 500
