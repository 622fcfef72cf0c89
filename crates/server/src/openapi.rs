//! The API's OpenAPI 3 description, made from the code: the schemas from the DTOs' derives,
//! each operation from its handler's `#[utoipa::path]`, and the route list from
//! [`crate::routes::api_routes`], which also makes the router. What every route shares (the
//! bearer token, and the answers of the checks that run before any route) is added here.

use axum::http::header;
use axum::response::IntoResponse;
use nightshift_api::ApiError;
use serde_json::json;
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HttpMethod, InfoBuilder, OpenApi, Ref, RefOr, ResponseBuilder,
    SecurityRequirement,
};
use utoipa::{PartialSchema, ToSchema};

/// The whole description, as JSON.
pub fn description() -> serde_json::Value {
    let mut doc = serde_json::to_value(document()).unwrap_or_default();
    for (pointer, rules) in rules_across_fields() {
        if let Some(serde_json::Value::Object(target)) = doc.pointer_mut(pointer)
            && let serde_json::Value::Object(rules) = rules
        {
            for (key, rule) in rules {
                // Several rules of one kind on one schema must all hold.
                match (key.as_str(), target.remove(&key)) {
                    ("allOf", Some(serde_json::Value::Array(mut all))) => {
                        all.extend(rule.as_array().cloned().unwrap_or_default());
                        target.insert(key, all.into());
                    }
                    _ => {
                        target.insert(key, rule);
                    }
                }
            }
        }
    }
    doc
}

/// What validation checks across the fields of a request, which no derive can state: added
/// to the schemas at these JSON pointers. Each is a `not` at the top of a request body: the
/// one place where schemathesis 4.32 judges such rules right (it takes a body that meets an
/// `anyOf` or `oneOf` there for one that breaks it).
fn rules_across_fields() -> Vec<(&'static str, serde_json::Value)> {
    // Given: present and not null.
    let given = json!({"type": ["boolean", "integer", "number", "string", "array", "object"]});
    let absent = json!({"type": "null"});
    // Each setting of a queue: given, or reset (`reset` names it), not both.
    let mut queue_conflicts: Vec<serde_json::Value> = nightshift_api::QUEUE_RESETTABLE
        .iter()
        .map(|&field| {
            json!({
                "required": [field, "reset"],
                "properties": {field: given, "reset": {"contains": {"const": field}}},
            })
        })
        .collect();
    queue_conflicts.push(json!({
        "required": ["concurrency", "reset_concurrency"],
        "properties": {"concurrency": given, "reset_concurrency": {"const": true}},
    }));
    vec![
        // `run_at` or `delay`, not both.
        (
            "/components/schemas/EnqueueRequest",
            json!({"not": {
                "required": ["run_at", "delay"],
                "properties": {"run_at": given, "delay": given},
            }}),
        ),
        (
            "/components/schemas/QueueUpdate",
            json!({"not": {"anyOf": queue_conflicts}}),
        ),
        // `every` or `cron`: one, not both, not neither.
        (
            "/components/schemas/ScheduleRequest",
            json!({"not": {"anyOf": [
                {
                    "required": ["every", "cron"],
                    "properties": {"every": given, "cron": given},
                },
                {"properties": {"every": absent, "cron": absent}},
            ]}}),
        ),
        // The job of a schedule has no `after` and no `unique` (its runs share the key
        // `schedule:NAME`).
        (
            "/components/schemas/ScheduleRequest/properties",
            json!({"job": {"allOf": [
                {"$ref": "#/components/schemas/EnqueueRequest"},
                {"properties": {"after": {"maxItems": 0}, "unique": {"type": "null"}}},
            ]}}),
        ),
        // No body at all is a queue as it is; `null` is not a body.
        (
            "/paths/~1api~1queues~1{name}/post/requestBody",
            json!({"required": false}),
        ),
        // A batch has at least one line.
        (
            "/paths/~1api~1jobs~1batch/post/requestBody/content/application~1x-ndjson/schema",
            json!({"minItems": 1}),
        ),
    ]
}

/// The description as utoipa makes it from the routes and the derives.
fn document() -> OpenApi {
    let mut doc = crate::routes::api_routes().into_openapi();
    doc.info = InfoBuilder::new()
        .title("Nightshift local API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The local HTTP API of a Nightshift daemon, on 127.0.0.1 only. Every request \
             needs `Host: 127.0.0.1:PORT` (or `localhost:PORT`), else 421, and the bearer \
             token from the file `token` in the data folder, else 401. A POST or DELETE \
             with a foreign `Origin` or `Sec-Fetch-Site: cross-site` is refused with 403. \
             Errors are `{code, message}`. See docs/api.md.",
        ))
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The contents of the file `token` in the data folder."))
                .build(),
        ),
    );
    components
        .schemas
        .insert(ApiError::name().into_owned(), ApiError::schema());
    doc.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    for item in doc.paths.paths.values_mut() {
        for (method, operation) in [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Delete, &mut item.delete),
        ] {
            if let Some(operation) = operation {
                add_guard_answers(method, operation);
            }
        }
    }
    doc
}

/// The answers the checks in `guard.rs` and the accept loop give before any route runs.
fn add_guard_answers(method: HttpMethod, operation: &mut Operation) {
    let mut answers = vec![
        ("401", "unauthorized: the bearer token is missing or wrong"),
        (
            "421",
            "misdirected_request: the Host header is not 127.0.0.1:PORT or localhost:PORT",
        ),
        (
            "503",
            "unavailable: shutting down, or too many connections open at once",
        ),
    ];
    if method != HttpMethod::Get {
        answers.push((
            "403",
            "forbidden: a foreign Origin, or Sec-Fetch-Site: cross-site",
        ));
    }
    for (status, description) in answers {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(Ref::from_schema_name("ApiError"))))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert(RefOr::T(response));
    }
}

/// The description as JSON, made once.
fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        serde_json::to_string_pretty(&description())
            .unwrap_or_else(|e| format!("{{\"error\": \"cannot render the description: {e}\"}}"))
    })
}

/// This description.
#[utoipa::path(get, path = "/api/openapi.json", tag = "status",
    responses((status = 200, description = "This OpenAPI document", body = Object)))]
pub(crate) async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Query;

    /// The web UI's TypeScript types are generated from `ui/openapi.json` (`npm run types`), so
    /// that copy must be this description. `NIGHTSHIFT_UPDATE_OPENAPI=1` rewrites it.
    #[test]
    fn the_ui_types_are_made_from_this_description() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/openapi.json");
        let current = description();
        if std::env::var_os("NIGHTSHIFT_UPDATE_OPENAPI").is_some_and(|v| v == "1") {
            let text = serde_json::to_string_pretty(&current).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
        }
        let stored: serde_json::Value = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        assert!(
            stored == current,
            "ui/openapi.json is not the API's description: run \
             `NIGHTSHIFT_UPDATE_OPENAPI=1 cargo test -p nightshift-server the_ui_types` \
             and rebuild the UI (`npm run build` in ui/ regenerates its types)"
        );
    }

    /// Every `$ref` names a schema the description holds (code generators stop at one that
    /// does not).
    #[test]
    fn every_reference_resolves() {
        fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                        out.push(r.clone());
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = description();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 20, "{}", found.len());
        for r in found {
            let pointer = r.strip_prefix('#').unwrap_or(&r);
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
    }

    /// Every operation says what the checks before the routes answer, with the error schema.
    #[test]
    fn every_operation_has_the_guard_answers() {
        let doc = description();
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 20, "{}", paths.len());
        for (path, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                let responses = &operation["responses"];
                let mut expected = vec!["401", "421", "503"];
                if method != "get" {
                    expected.push("403");
                }
                for status in expected {
                    let schema = &responses[status]["content"]["application/json"]["schema"];
                    assert_eq!(
                        schema["$ref"], "#/components/schemas/ApiError",
                        "{method} {path} {status}"
                    );
                }
            }
        }
        assert_eq!(doc["security"][0]["bearer"], json!([]));
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }

    /// The rules across fields land where they are meant to.
    #[test]
    fn the_rules_across_fields_are_in_place() {
        let doc = description();
        let schemas = &doc["components"]["schemas"];
        assert!(schemas["EnqueueRequest"]["not"]["required"].is_array());
        assert!(schemas["QueueUpdate"]["not"]["anyOf"].is_array());
        assert!(schemas["ScheduleRequest"]["not"]["anyOf"].is_array());
        assert!(schemas["ScheduleRequest"]["properties"]["job"]["allOf"].is_array());
        let batch = &doc["paths"]["/api/jobs/batch"]["post"]["requestBody"]["content"]["application/x-ndjson"]
            ["schema"];
        assert_eq!(batch["minItems"], 1);
        assert_eq!(
            doc["paths"]["/api/queues/{name}"]["post"]["requestBody"]["required"],
            false
        );
        // Ids are exact to the last unit, not a float near i64::MAX.
        assert_eq!(schemas["JobId"]["maximum"], json!(i64::MAX));
        assert_eq!(schemas["JobId"]["minimum"], json!(1));
    }

    /// An id in a query string is read from its text (reading ids through JSON's number rules
    /// must not break `?before=1`).
    #[test]
    fn ids_in_a_query_string_parse() {
        let uri: axum::http::Uri = "/api/jobs?before=12&limit=5".parse().unwrap();
        let Query(q) = Query::<nightshift_api::ListQuery>::try_from_uri(&uri).unwrap();
        assert_eq!(q.before, Some(nightshift_core::JobId(12)));
        assert_eq!(q.limit, Some(5));
        for bad in ["before=0", "before=1.5", "before=x", "limit=2&nope=1"] {
            let uri: axum::http::Uri = format!("/api/jobs?{bad}").parse().unwrap();
            assert!(
                Query::<nightshift_api::ListQuery>::try_from_uri(&uri).is_err(),
                "{bad}"
            );
        }
    }
}
