//! The window process's IPC commands: the same names and answers as `commands.rs`, carried to
//! the tray process's facade through its local API (the window lives in its own process so
//! that closing it gives back all of WebKit's memory; see `window.rs`).

use nightshift_api::{ApiError, ErrorKind, JobDetail, JobPage, JobView, ListQuery, Summary};
use nightshift_core::Paths;
use serde::de::DeserializeOwned;
use std::io::Read;
use std::time::Duration;

/// How the window process reaches the API: the address and token of its data folder.
pub struct Remote {
    agent: ureq::Agent,
    base: String,
    auth: String,
}

impl Remote {
    /// Reads `daemon.json` and the token, waiting a little for a tray app that is starting.
    pub fn connect() -> anyhow::Result<Remote> {
        let paths = Paths::from_env().map_err(anyhow::Error::msg)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let url = loop {
            let found = std::fs::read_to_string(&paths.address_file)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v.get("url")?.as_str().map(str::to_string));
            match found {
                Some(url) => break url,
                None if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                None => anyhow::bail!("Nightshift is not running for {}", paths.data_dir.display()),
            }
        };
        let token = nightshift_server::read_token(&paths.token_file)?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .build();
        Ok(Remote {
            agent,
            base: url,
            auth: format!("Bearer {token}"),
        })
    }

    fn send(&self, method: &str, path: &str) -> Result<ureq::Response, ApiError> {
        let request = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Authorization", &self.auth);
        match request.call() {
            Ok(response) => Ok(response),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                Err(serde_json::from_str(&text)
                    .unwrap_or_else(|_| ApiError::internal(format!("HTTP {status}: {text}"))))
            }
            Err(e) => Err(ApiError::new(
                ErrorKind::Unavailable,
                format!("Nightshift does not answer: {e}"),
            )),
        }
    }

    fn json<T: DeserializeOwned>(&self, method: &str, path: &str) -> Result<T, ApiError> {
        self.send(method, path)?
            .into_json()
            .map_err(ApiError::internal)
    }

    /// The change stream (`GET /api/events`), as a reader of server-sent events.
    pub fn events(&self) -> Result<impl Read + Send + use<>, ApiError> {
        Ok(self.send("GET", "/api/events")?.into_reader())
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

type Reply<T> = Result<T, ApiError>;

/// The facade's calls, over HTTP; each runs its blocking request off the async threads
/// (invariant 4).
impl Remote {
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Remote) -> Reply<T> + Send + 'static,
    ) -> Reply<T> {
        let remote = Remote {
            agent: self.agent.clone(),
            base: self.base.clone(),
            auth: self.auth.clone(),
        };
        tauri::async_runtime::spawn_blocking(move || call(&remote))
            .await
            .map_err(ApiError::internal)?
    }

    pub async fn list(&self, query: ListQuery) -> Reply<JobPage> {
        let mut q = Vec::new();
        if let Some(state) = query.state {
            q.push(format!("state={state}"));
        }
        if let Some(queue) = &query.queue {
            q.push(format!("queue={}", encode(queue)));
        }
        if let Some(before) = query.before {
            q.push(format!("before={before}"));
        }
        if let Some(limit) = query.limit {
            q.push(format!("limit={limit}"));
        }
        let path = format!("/api/jobs?{}", q.join("&"));
        self.blocking(move |r| r.json("GET", &path)).await
    }

    pub async fn show(&self, id: i64) -> Reply<JobDetail> {
        self.blocking(move |r| r.json("GET", &format!("/api/jobs/{id}")))
            .await
    }

    pub async fn cancel(&self, id: i64) -> Reply<JobView> {
        self.blocking(move |r| r.json("POST", &format!("/api/jobs/{id}/cancel")))
            .await
    }

    pub async fn retry(&self, id: i64) -> Reply<JobView> {
        self.blocking(move |r| r.json("POST", &format!("/api/jobs/{id}/retry")))
            .await
    }

    pub async fn logs(&self, id: i64, tail: Option<usize>) -> Reply<String> {
        let path = match tail {
            Some(n) => format!("/api/jobs/{id}/logs?tail={n}"),
            None => format!("/api/jobs/{id}/logs"),
        };
        self.blocking(move |r| {
            r.send("GET", &path)?
                .into_string()
                .map_err(ApiError::internal)
        })
        .await
    }

    pub async fn summary(&self) -> Reply<Summary> {
        self.blocking(|r| r.json("GET", "/api/summary")).await
    }

    pub async fn set_paused(&self, paused: bool) -> Reply<Summary> {
        let path = if paused { "/api/pause" } else { "/api/resume" };
        self.blocking(move |r| r.json("POST", path)).await
    }
}
