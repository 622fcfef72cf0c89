//! The HTTP client of the running instance, found through the address file in the data folder.

use nightshift_api::ApiError;
use nightshift_core::Paths;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Read;
use std::time::Duration;

#[derive(Debug)]
pub enum ClientError {
    NoDaemon { url: Option<String>, detail: String },
    Api(ApiError),
    Transport(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::NoDaemon { url, detail } => {
                write!(f, "Nightshift is not running")?;
                if let Some(url) = url {
                    write!(f, " (nothing answers at {url}: {detail})")?;
                } else {
                    write!(f, " ({detail})")?;
                }
                write!(
                    f,
                    ". Start it with `nightshift daemon` (or `cargo xtask run` in its source tree)"
                )
            }
            ClientError::Api(e) => write!(f, "{}", e.message),
            ClientError::Transport(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ClientError {}

#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    auth: String,
}

impl Client {
    /// Finds the running instance of this data folder.
    pub fn connect() -> anyhow::Result<Client> {
        let paths = Paths::from_env().map_err(anyhow::Error::msg)?;
        let text = match std::fs::read_to_string(&paths.address_file) {
            Ok(text) => text,
            Err(_) => {
                return Err(ClientError::NoDaemon {
                    url: None,
                    detail: format!("no {} found", paths.address_file.display()),
                }
                .into());
            }
        };
        let url = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("url")?.as_str().map(str::to_string))
            .ok_or_else(|| ClientError::NoDaemon {
                url: None,
                detail: format!("{} is damaged", paths.address_file.display()),
            })?;
        let token = nightshift_server::read_token(&paths.token_file).map_err(|e| {
            ClientError::Transport(format!(
                "cannot read the API token {}: {e}",
                paths.token_file.display()
            ))
        })?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .build();
        Ok(Client {
            agent,
            base: url,
            auth: format!("Bearer {token}"),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The web UI's address with the token in the fragment (never sent to the server, read by
    /// the page once and then removed from the address bar).
    pub fn ui_link(&self) -> String {
        let token = self.auth.trim_start_matches("Bearer ");
        format!("{}/#token={token}", self.base)
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        self.agent
            .request(method, &format!("{}{path}", self.base))
            .set("Authorization", &self.auth)
    }

    fn answer(
        &self,
        result: Result<ureq::Response, ureq::Error>,
    ) -> Result<ureq::Response, ClientError> {
        match result {
            Ok(response) => Ok(response),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                Err(ClientError::Api(
                    serde_json::from_str(&text)
                        .unwrap_or_else(|_| ApiError::internal(format!("HTTP {status}: {text}"))),
                ))
            }
            Err(ureq::Error::Transport(t)) if t.kind() == ureq::ErrorKind::ConnectionFailed => {
                Err(ClientError::NoDaemon {
                    url: Some(self.base.clone()),
                    detail: t.to_string(),
                })
            }
            Err(e) => Err(ClientError::Transport(format!(
                "request to {} failed: {e}",
                self.base
            ))),
        }
    }

    fn json<T: DeserializeOwned>(&self, response: ureq::Response) -> Result<T, ClientError> {
        response.into_json().map_err(|e| {
            ClientError::Transport(format!("unexpected answer from {}: {e}", self.base))
        })
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self.answer(self.request("GET", path).call())?;
        self.json(response)
    }

    pub fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        let response = self.answer(self.request("POST", path).send_json(body))?;
        self.json(response)
    }

    pub fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self.answer(self.request("POST", path).call())?;
        self.json(response)
    }

    pub fn post_stream<T: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        body: impl Read,
    ) -> Result<T, ClientError> {
        let response = self.answer(
            self.request("POST", path)
                .set("Content-Type", content_type)
                .send(body),
        )?;
        self.json(response)
    }

    pub fn delete(&self, path: &str) -> Result<(), ClientError> {
        self.answer(self.request("DELETE", path).call()).map(|_| ())
    }

    /// A streamed response body.
    pub fn stream(&self, path: &str) -> Result<impl Read + Send + use<>, ClientError> {
        Ok(self.answer(self.request("GET", path).call())?.into_reader())
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
