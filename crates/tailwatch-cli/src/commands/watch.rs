//! `tailwatch serve` (the watch server) and `tailwatch push` (profile locally, upload).
use std::io::Write;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use tailwatch_server::client::{Client, ClientError};
use tailwatch_server::db::Settings;
use tailwatch_server::types::{PushKey, PushOutcome};
use tailwatch_server::{AppState, ServerConfig, SqliteStore, TokenCheck, TokenSource};

use super::Context;
use crate::Outcome;
use crate::args::{PushArgs, ServeArgs};
use crate::options::{is_items, parse_bytes, profile_settings, read_options};
use crate::output::{Report, emit};

/// The token from the environment, if set.
fn env_token() -> Option<String> {
    std::env::var("TAILWATCH_TOKEN").ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

pub fn run_serve(args: &ServeArgs, cx: &Context) -> Result<Outcome> {
    let max_body = usize::try_from(parse_bytes(&args.max_body)?).context("--max-body")?;
    let store = SqliteStore::open(&args.db)
        .with_context(|| format!("cannot open the server database `{}`", args.db.display()))?
        .with_max_decoded(1 << 30)
        .with_engine(cx.engine.clone());
    if args.reset_token {
        store.set_setting("token_blake3", "").context("cannot reset the token")?;
    }
    let (token, source) = TokenCheck::load_or_create(&store, env_token().as_deref())?;
    let addr: std::net::SocketAddr =
        args.addr.parse().with_context(|| format!("--addr must be HOST:PORT, found `{}`", args.addr))?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = cx.threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = runtime.enable_all().build().context("cannot start the async runtime")?;
    let state = Arc::new(AppState {
        engine: cx.engine.clone(),
        store: Arc::new(store),
        token,
        sessions: Default::default(),
        decoding: tailwatch_server::profiles::DecodeBudget::new(ServerConfig::default().limits.decode_budget),
        config: ServerConfig { public_reads: args.public_reads, max_body, ..ServerConfig::default() },
    });
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        let bound = listener.local_addr()?;
        let mut err = std::io::stderr().lock();
        writeln!(err, "tailwatch serve: http://{bound}/ (database {})", args.db.display())?;
        match &source {
            TokenSource::Created(t) => writeln!(
                err,
                "write token (shown once; set TAILWATCH_TOKEN to choose your own, --reset-token for a new one):\n  {t}"
            )?,
            TokenSource::Given => writeln!(err, "write token: from TAILWATCH_TOKEN")?,
            TokenSource::Stored => writeln!(err, "write token: the one created at first start")?,
        }
        if args.public_reads {
            writeln!(err, "notice: --public-reads: anyone who can reach {bound} can read every profile, metric and alert")?;
        } else {
            writeln!(err, "reads need the token too (the dashboard asks for it once); --public-reads opens them")?;
        }
        drop(err);
        tailwatch_server::serve(listener, state, shutdown_signal()).await.context("the server failed")
    })?;
    Ok(Outcome::Ok)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

pub fn run_push(args: &PushArgs, cx: &Context) -> Result<Outcome> {
    let server = args
        .server
        .clone()
        .or_else(|| std::env::var("TAILWATCH_SERVER").ok())
        .unwrap_or_else(|| "http://127.0.0.1:8787".into());
    let server = server.trim_end_matches('/').to_string();
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        bail!("--server must be an http:// or https:// URL, found `{server}`");
    }
    let token = env_token().context("pushing needs the server's token in TAILWATCH_TOKEN")?;
    let window = args.window.clone().unwrap_or_else(|| chrono::Utc::now().format("%Y-%m-%d").to_string());
    let profile = if args.inputs.len() == 1 && tailwatch::is_profile_path(&args.inputs[0]) {
        if args.keep_text {
            bail!(
                "--keep-text applies to inputs push profiles; `{}` is a profile and is pushed as it is (make it with `tailwatch profile --keep-text`)",
                args.inputs[0].display()
            );
        }
        tailwatch::load_profile(&args.inputs[0])?
    } else {
        let read = read_options(&args.input, None, is_items(&args.profile))?;
        let mut settings = profile_settings(&args.profile)?;
        settings.config.keep_text = args.keep_text;
        cx.engine.profile_inputs(&args.inputs, &read, &settings, &cx.progress())?.0
    };
    if profile.n_docs() == 0 {
        bail!(
            "no documents to push in {}",
            args.inputs.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
        );
    }
    let bytes = profile.to_bytes()?;
    let key = args.idempotency_key.clone().unwrap_or_else(|| {
        let mut hasher = blake3::Hasher::new();
        for part in [&args.model, &args.model_version, &args.cohort, &window] {
            hasher.update(part.as_bytes());
            hasher.update(&[0]);
        }
        hasher.update(&bytes);
        hasher.finalize().to_hex().to_string()
    });
    let client = Client::new(&server, Some(token), std::time::Duration::from_secs(args.timeout));
    let push_key = PushKey {
        model: args.model.clone(),
        version: args.model_version.clone(),
        cohort: args.cohort.clone(),
        window: window.clone(),
    };
    let outcome = match client.push_profile(&push_key, &bytes, &key) {
        Ok(outcome) => outcome,
        Err(ClientError::Refused { status, message, .. }) => {
            bail!("the server refused the push (HTTP {status}): {message}")
        }
        Err(e) => return Err(e.into()),
    };
    // the gate: the version breaches a rule, whether its alert is new, already open, or not
    // open yet; a repeated push answers the same
    let breaching = !outcome.breaching.is_empty();
    // the server's answer, as it sent it (keys in alphabetical order)
    emit(&Pushed { json: serde_json::to_value(&outcome)?, outcome }, args.json)?;
    Ok(if args.fail_on_alert && breaching { Outcome::CheckFailed } else { Outcome::Ok })
}

/// What a push did.
#[derive(Serialize)]
#[serde(transparent)]
struct Pushed {
    json: serde_json::Value,
    #[serde(skip)]
    outcome: PushOutcome,
}

impl Report for Pushed {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        let o = &self.outcome;
        writeln!(
            out,
            "{} {} docs to {}/{} (cohort {}, window {}): the version now holds {} docs from {} pushes",
            if o.duplicate { "already pushed:" } else { "pushed" },
            o.n_docs,
            o.key.model,
            o.key.version,
            o.key.cohort,
            o.key.window,
            o.version_docs,
            o.version_pushes
        )?;
        for alert in &o.alerts_opened {
            writeln!(
                out,
                "ALERT #{}: {} = {:.4} is {} the threshold {:.4}",
                alert.id,
                alert.metric,
                alert.value,
                tailwatch_metrics::catalog::direction_words::bound::word(alert.direction),
                alert.threshold
            )?;
        }
        for alert in &o.alerts_resolved {
            writeln!(out, "resolved alert #{} ({})", alert.id, alert.metric)?;
        }
        let opened: Vec<i64> = o.alerts_opened.iter().map(|a| a.id).collect();
        for b in o.breaching.iter().filter(|b| b.alert_id.is_none_or(|id| !opened.contains(&id))) {
            let alert = b
                .alert_id
                .map_or_else(|| "no alert open yet".to_string(), |id| format!("alert #{id} already open"));
            writeln!(
                out,
                "BREACHING rule #{}: {} = {:.4} past the threshold {:.4} ({alert})",
                b.rule_id, b.metric, b.value, b.threshold
            )?;
        }
        for n in &o.not_evaluated {
            writeln!(out, "not evaluated: rule #{} ({}): {}", n.rule_id, n.metric, n.reason)?;
        }
        Ok(())
    }
}
