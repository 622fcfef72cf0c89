//! The API's OpenAPI 3 description, made from the code: the schemas from the DTOs' derives,
//! each operation from its handler's `#[utoipa::path]`, and the route list from
//! [`crate::routes::api_routes`], which also makes the router. What every route shares (the
//! bearer token, and the answers of the checks that run before any route) is added here.

use axum::http::header;
use axum::response::IntoResponse;
use nightshift_api::ApiError;
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HttpMethod, InfoBuilder, OpenApi, Ref, RefOr, ResponseBuilder,
    SecurityRequirement,
};
use utoipa::{PartialSchema, ToSchema};

/// The whole description.
pub fn description() -> OpenApi {
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
        description()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"cannot render the description: {e}\"}}"))
    })
}

/// This description.
#[utoipa::path(get, path = "/api/openapi.json", tag = "status",
    responses((status = 200, description = "This OpenAPI document", body = Object)))]
pub(crate) async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}
