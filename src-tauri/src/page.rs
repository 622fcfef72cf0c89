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

/// The page's address with the access token, from `daemon.json` and the token file of this
/// data folder.
pub fn address(paths: &Paths) -> anyhow::Result<Url> {
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
    let mut url = Url::parse(&base)
        .map_err(|e| anyhow::anyhow!("daemon.json has a bad url {base:?}: {e}"))?;
    url.set_path("/");
    url.set_fragment(Some(&format!("token={token}")));
    Ok(url)
}

/// Whether the window may go to `url`: only the daemon's own origin. A link to anywhere else
/// (there are none, but a job's output is shown on the page) does not take the window away.
pub fn allowed(page: &Url, url: &Url) -> bool {
    url.origin() == page.origin()
}

#[cfg(test)]
mod tests {
    use super::*;

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
