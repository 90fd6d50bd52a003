//! HTTP integration tests of every `/api/v1` endpoint, good and bad requests.
mod common;

use common::*;

#[test]
fn health_and_openapi_are_public() {
    let server = start();
    let health = server.get("/api/v1/health");
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.json()["status"], "ok");
    let doc = server.get("/api/v1/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/models/{model}/versions/{version}/profiles"]["post"].is_object());
}
