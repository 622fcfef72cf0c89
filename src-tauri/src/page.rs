//! Which page the admin window shows: the daemon's own, over its local HTTP API, exactly as a
//! browser opens it from `nightshift status --url` (the token in the fragment, which never
//! leaves the machine's loopback and is dropped from the address at once). So there is one
//! path from the UI to the engine, HTTP, and the tests that drive a real browser cover what
//! the window shows. The page's CSP, Host and Origin checks are the server's.

use nightshift_core::Paths;
use std::time::{Duration, Instant};
use tauri::Url;

/// How long a window process waits for a tray app that is still starting.
const WAIT_FOR_ADDRESS: Duration = Duration::from_secs(10);

/// A page of the app the window can be sent to. Only an incident's for now (a notification's
/// Open); it comes from this process or the tray app, checked again wherever it is read, and is
/// digits after a fixed prefix, so it is safe in the page's address and in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route(String);

impl Route {
    /// The incident `id`'s page.
    pub fn incident(id: i64) -> Route {
        Route(format!("/incidents/{id}"))
    }

    /// `/incidents/ID` (ID a non-negative i64), as `--route` or the route file gives it.
    pub fn parse(text: &str) -> Option<Route> {
        let id: i64 = text.trim().strip_prefix("/incidents/")?.parse().ok()?;
        (id >= 0).then(|| Route::incident(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The page's address with the access token, from `daemon.json` and the token file of this
/// data folder; on `route`'s page when given.
pub fn address(paths: &Paths, route: Option<&Route>) -> anyhow::Result<Url> {
    let deadline = Instant::now() + WAIT_FOR_ADDRESS;
    let base = loop {
        let found = std::fs::read_to_string(&paths.address_file)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("url")?.as_str().map(str::to_string));
        match found {
            Some(url) => break url,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            None => anyhow::bail!("Nightshift is not running for {}", paths.data_dir.display()),
        }
    };
    let token = nightshift_server::read_token(&paths.token_file)?;
    let url = Url::parse(&base)
        .map_err(|e| anyhow::anyhow!("daemon.json has a bad url {base:?}: {e}"))?;
    Ok(page_at(url, &token, route))
}

/// The app's page at `base`'s origin, with the token (and the route) in the fragment.
fn page_at(mut url: Url, token: &str, route: Option<&Route>) -> Url {
    url.set_path("/");
    // The page reads the token after a route too (`#/incidents/7?token=…`) and drops it.
    let fragment = match route {
        Some(route) => format!("{}?token={token}", route.as_str()),
        None => format!("token={token}"),
    };
    url.set_fragment(Some(&fragment));
    url
}

/// Whether the window may go to `url`: only the daemon's own origin. A link to anywhere else
/// (there are none, but a job's output is shown on the page) does not take the window away.
pub fn allowed(page: &Url, url: &Url) -> bool {
    url.origin() == page.origin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_page_carries_the_token_after_its_route() {
        let base = Url::parse("http://127.0.0.1:8091/api").unwrap();
        assert_eq!(
            page_at(base.clone(), "abc", None).as_str(),
            "http://127.0.0.1:8091/#token=abc"
        );
        assert_eq!(
            page_at(base, "abc", Some(&Route::incident(7))).as_str(),
            "http://127.0.0.1:8091/#/incidents/7?token=abc"
        );
    }

    #[test]
    fn a_route_is_an_incident_page_and_nothing_else() {
        assert_eq!(Route::parse("/incidents/42"), Some(Route::incident(42)));
        assert_eq!(
            Route::parse(" /incidents/7\n").map(|r| r.0),
            Some("/incidents/7".into())
        );
        for bad in [
            "",
            "/incidents/",
            "/incidents/-1",
            "/incidents/4a",
            "/incidents/1'; alert(1); '",
            "/jobs/4",
            "incidents/4",
            "/incidents/99999999999999999999",
        ] {
            assert_eq!(Route::parse(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_to_an_incident_route_of_digits_or_to_nothing(text in ".{0,40}") {
            if let Some(route) = Route::parse(&text) {
                let id = route.as_str().strip_prefix("/incidents/").unwrap();
                prop_assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(Route::parse(route.as_str()), Some(route.clone()));
            }
        }

        #[test]
        fn every_incident_id_round_trips(id in 0i64..=i64::MAX) {
            prop_assert_eq!(Route::parse(Route::incident(id).as_str()), Some(Route::incident(id)));
        }
    }

    #[test]
    fn the_window_stays_on_the_daemons_origin() {
        let page = Url::parse("http://127.0.0.1:8091/#token=abc").unwrap();
        for ok in ["http://127.0.0.1:8091/", "http://127.0.0.1:8091/#/jobs/4"] {
            assert!(allowed(&page, &Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:8092/",
            "http://localhost:8091/",
            "https://127.0.0.1:8091/",
            "http://example.com/",
            "file:///etc/passwd",
        ] {
            assert!(!allowed(&page, &Url::parse(bad).unwrap()), "{bad}");
        }
    }
}
