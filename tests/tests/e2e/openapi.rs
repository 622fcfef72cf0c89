//! The API's OpenAPI description (`GET /api/openapi.json`), from outside: an OpenAPI 3 document
//! behind the token that describes exactly the routes the server has, and the answers to the
//! inputs schemathesis found mishandled (`cargo xtask fuzz`).

use crate::error_body;
use nightshift_e2e::Daemon;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Every route of the API with its methods. The router and the description are made from one
/// list in the server; this one, kept by hand, catches a route added or dropped by mistake.
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/health", &["get"]),
    ("/api/openapi.json", &["get"]),
    ("/api/jobs", &["get", "post"]),
    ("/api/jobs/batch", &["post"]),
    ("/api/jobs/wait", &["post"]),
    ("/api/jobs/{id}", &["delete", "get"]),
    ("/api/jobs/{id}/cancel", &["post"]),
    ("/api/jobs/{id}/retry", &["post"]),
    ("/api/jobs/{id}/logs", &["get"]),
    ("/api/queues", &["get"]),
    ("/api/queues/{name}", &["post"]),
    ("/api/queues/{name}/pause", &["post"]),
    ("/api/queues/{name}/resume", &["post"]),
    ("/api/schedules", &["get", "post"]),
    ("/api/schedules/{name}", &["delete"]),
    ("/api/schedules/{name}/pause", &["post"]),
    ("/api/schedules/{name}/resume", &["post"]),
    ("/api/schedules/{name}/run", &["post"]),
    ("/api/summary", &["get"]),
    ("/api/power", &["get"]),
    ("/api/pause", &["post"]),
    ("/api/resume", &["post"]),
    ("/api/events", &["get"]),
    ("/metrics", &["get"]),
    ("/api/metrics/summary", &["get"]),
    ("/api/metrics/trends", &["get"]),
    ("/api/metrics/history", &["get"]),
    ("/api/report", &["get"]),
    ("/api/pools", &["get", "post"]),
    ("/api/pools/{name}", &["delete", "get", "post"]),
    ("/api/pools/{name}/stop", &["post"]),
    ("/api/pools/{name}/start", &["post"]),
    ("/api/pools/{name}/restart", &["post"]),
    ("/api/incidents", &["get"]),
    ("/api/incidents/rules", &["get"]),
    ("/api/incidents/{id}", &["get"]),
    ("/api/incidents/{id}/acknowledge", &["post"]),
    ("/api/incidents/{id}/snooze", &["post"]),
    ("/api/incidents/{id}/resolve", &["post"]),
];

fn described_routes(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .expect("the description has paths")
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .expect("a path item is an object")
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete", "head"].contains(&k.as_str()))
                .cloned()
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

#[test]
fn the_openapi_description_lists_every_route_and_needs_the_token() {
    let d = Daemon::start();

    // Behind the token like the rest of /api.
    let (status, body) = d.http_with("GET", "/api/openapi.json", &[], None);
    assert_eq!(status, 401, "{body}");
    error_body(status, &body, "unauthorized");

    let (status, body) = d.http("GET", "/api/openapi.json", None);
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).expect("the description is JSON");
    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "OpenAPI {version}");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer", "description": "The contents of the file `token` in the data folder."})
    );
    assert_eq!(doc["security"], json!([{"bearer": []}]));

    let expected: BTreeMap<String, BTreeSet<String>> = ROUTES
        .iter()
        .map(|(path, methods)| {
            (
                path.to_string(),
                methods.iter().map(|m| m.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(described_routes(&doc), expected);

    // The server has exactly these routes: a method a route does not take is a 405 whose
    // Allow header names the described methods (and HEAD with GET), and nothing is a 404.
    let bearer = d.bearer();
    for (path, methods) in &expected {
        let concrete = path.replace("{id}", "1").replace("{name}", "nightly");
        let r = d.raw_http(
            "PUT",
            &concrete,
            &[("Host", &d.host()), ("Authorization", &bearer)],
            b"",
        );
        assert_eq!(r.status, 405, "PUT {concrete}: {}", r.text());
        error_body(r.status, &r.text(), "method_not_allowed");
        let allowed: BTreeSet<String> = r
            .header("allow")
            .unwrap_or_else(|| panic!("PUT {concrete}: a 405 without Allow"))
            .split(',')
            .map(|m| m.trim().to_ascii_lowercase())
            .filter(|m| m != "head")
            .collect();
        assert_eq!(&allowed, methods, "Allow of {concrete}");
    }

    // Every operation answers with `{code, message}` for its errors, and says which.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} has no success answer"
            );
            for status in responses.keys().filter(|s| !s.starts_with('2')) {
                assert_eq!(
                    responses[status]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ApiError",
                    "{method} {path} {status}"
                );
            }
        }
    }
    // The ranges the server keeps are stated exactly.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["JobId"]["minimum"], json!(1));
    assert_eq!(schemas["JobId"]["maximum"], json!(i64::MAX));
    let limit = doc["paths"]["/api/jobs"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("a limit parameter");
    let range = &limit["schema"]["oneOf"][0];
    assert_eq!(
        (&range["minimum"], &range["maximum"]),
        (&json!(1), &json!(1000))
    );
}

/// What `cargo xtask fuzz` found, each fixed at the server and kept fixed here.
#[test]
fn what_the_fuzzer_found_stays_fixed() {
    let d = Daemon::start();
    d.cli_ok(&["pause"]);

    // Whole numbers written as floats are integers, as JSON (and the description) has it.
    let (status, body) = d.http(
        "POST",
        "/api/jobs",
        Some(br#"{"cmd": ["true"], "max_attempts": 2.0, "priority": 3e1, "run_at": 1000.0}"#),
    );
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let job = d.show(id)["job"].clone();
    assert_eq!(
        (&job["max_attempts"], &job["priority"]),
        (&json!(2), &json!(30))
    );
    let wait = format!(r#"{{"ids": [{id}.0], "timeout_ms": 0.0}}"#);
    let (status, body) = d.http("POST", "/api/jobs/wait", Some(wait.as_bytes()));
    assert_eq!(status, 200, "{body}");
    let (status, body) = d.http(
        "POST",
        "/api/jobs",
        Some(br#"{"cmd": ["true"], "priority": 0.5}"#),
    );
    assert_eq!(status, 400, "{body}");
    error_body(status, &body, "bad_request");

    // A job to run after that does not exist is not found; one cancelled is a conflict.
    let (status, body) = d.http(
        "POST",
        "/api/jobs",
        Some(br#"{"cmd": ["true"], "after": [9223372036854775807]}"#),
    );
    assert_eq!(status, 404, "{body}");
    error_body(status, &body, "not_found");
    d.api("POST", &format!("/api/jobs/{id}/cancel"), None);
    let after = format!(r#"{{"cmd": ["true"], "after": [{id}]}}"#);
    let (status, body) = d.http("POST", "/api/jobs", Some(after.as_bytes()));
    assert_eq!(status, 409, "{body}");
    error_body(status, &body, "conflict");

    // A batch's cwd is checked even when every line has its own.
    let (status, body) = d.http(
        "POST",
        "/api/jobs/batch?cwd=relative",
        Some(b"{\"cmd\": [\"true\"], \"cwd\": \"/\"}\n"),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        error_body(status, &body, "bad_request").starts_with("cwd:"),
        "{body}"
    );

    // A delay is at most 100 years, a bound the description can state.
    let (status, body) = d.http(
        "POST",
        "/api/jobs",
        Some(br#"{"cmd": ["true"], "delay": 3155760000001}"#),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        error_body(status, &body, "bad_request").contains("100 years"),
        "{body}"
    );

    // An interval in milliseconds is taken up to i64::MAX, not refused past what the text
    // parser holds.
    let (status, body) = d.http(
        "POST",
        "/api/schedules",
        Some(br#"{"name": "rare", "every": 199947489792100, "job": {"cmd": ["true"]}}"#),
    );
    assert_eq!(status, 201, "{body}");

    // A unique key's 200 characters are characters, not bytes.
    let key = "é".repeat(200);
    let line = json!({"cmd": ["true"], "unique": key}).to_string();
    let (status, body) = d.http("POST", "/api/jobs", Some(line.as_bytes()));
    assert_eq!(status, 201, "{body}");
}
