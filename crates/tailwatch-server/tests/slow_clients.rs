//! Slow and crafted clients (issue 16): half-open connections are closed after the header
//! timeout, connections past the limit are closed at once, slow bodies get 408, and a profile
//! sent without its content type is named as one.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use tailwatch_server::{Limits, ServerConfig};

fn limited(limits: Limits) -> TestServer {
    start_with(ServerConfig { public_reads: true, limits, ..ServerConfig::default() })
}

fn connect(server: &TestServer) -> TcpStream {
    let addr = server.base.trim_start_matches("http://");
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
}

/// Whether the server closed `stream` (read gives end of file or a reset) within the read timeout.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an error response before closing
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false, // timed out: still open
        }
    }
}

#[test]
fn a_connection_that_sends_no_headers_is_closed_after_the_header_timeout() {
    let server = limited(Limits { header_timeout: Duration::from_millis(500), ..Limits::default() });
    let start = Instant::now();
    let mut silent = connect(&server);
    let mut partial = connect(&server);
    partial.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n").unwrap(); // never ends
    assert!(closed_by_server(&mut silent));
    assert!(closed_by_server(&mut partial));
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    assert_eq!(server.get("/api/v1/health").status, 200);
}

#[test]
fn connections_past_the_limit_are_closed_and_the_server_recovers() {
    let server =
        limited(Limits { max_connections: 4, header_timeout: Duration::from_secs(30), ..Limits::default() });
    let held: Vec<TcpStream> = (0..4).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = connect(&server);
    assert!(closed_by_server(&mut extra), "a fifth connection was kept open");
    drop(held);
    // the held connections' slots come back
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stream = connect(&server);
        stream.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not recover: {answer:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_body_that_never_arrives_gets_408() {
    let server = limited(Limits { request_timeout: Duration::from_millis(500), ..Limits::default() });
    let mut stream = connect(&server);
    let head = format!(
        "POST /api/v1/models/m/versions/v/outputs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 1000\r\n\r\n{{\"text\""
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

#[test]
fn a_profile_sent_as_outputs_or_without_its_content_type_is_named() {
    let server = start();
    let bytes = profile_bytes(&diverse_docs(20, 1));
    for path in ["/api/v1/models/m/versions/v/outputs", "/api/v1/models/m/baseline/reference"] {
        let method = if path.ends_with("outputs") { "POST" } else { "PUT" };
        let reply = call(method, &format!("{}{path}", server.base), Some(&bytes), true, &[]);
        assert_eq!(reply.status, 415, "{path}: {}", reply.body);
        assert!(reply.message().contains(".twp profile"), "{path}: {}", reply.body);
    }
}
