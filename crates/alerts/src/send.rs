//! One POST of one body, on a blocking thread (the HTTP client is a blocking one), with a
//! timeout so a receiver that hangs costs one attempt, not the sender.

use std::time::Duration;

/// The longest one attempt may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) enum Outcome {
    Delivered(u16),
    /// The receiver answered with a status that is not a success.
    Refused(u16, String),
    /// No answer: refused connection, DNS, TLS, timeout.
    Unreachable(String),
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(TIMEOUT)
        .redirects(0)
        .user_agent(concat!("nightshift/", env!("CARGO_PKG_VERSION")))
        .build()
}

pub(crate) async fn post(agent: &ureq::Agent, url: &str, body: String) -> Outcome {
    let agent = agent.clone();
    let url = url.to_string();
    // The outcome is made on the blocking thread: the client's error is large to carry back.
    let sent = tokio::task::spawn_blocking(move || {
        match agent
            .post(&url)
            .set("Content-Type", "application/json")
            .send_string(&body)
        {
            Ok(response) => Outcome::Delivered(response.status()),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                let text: String = text.chars().take(200).collect();
                Outcome::Refused(status, format!("answered {status}: {}", text.trim()))
            }
            Err(ureq::Error::Transport(t)) => Outcome::Unreachable(t.to_string()),
        }
    })
    .await;
    sent.unwrap_or_else(|e| Outcome::Unreachable(format!("the sending thread failed: {e}")))
}
