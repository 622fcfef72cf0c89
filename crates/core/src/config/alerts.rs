//! `[[alerts.webhook]]`: where incidents are sent besides the desktop (a Slack-style incoming
//! webhook, or any HTTP receiver), and from which severity on.

use crate::incident::Severity;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    pub webhook: Vec<WebhookConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://` or `https://`; receives a POST with a JSON body per alert.
    pub url: String,
    /// Incidents of this severity and above are sent (info, warning, critical).
    #[serde(default = "warning")]
    pub min_severity: Severity,
}

fn warning() -> Severity {
    Severity::Warning
}

/// The longest URL taken.
const MAX_URL: usize = 2048;

impl AlertsConfig {
    pub(super) fn check(&self) -> Result<(), String> {
        for (i, hook) in self.webhook.iter().enumerate() {
            check_url(&hook.url).map_err(|e| format!("alerts.webhook[{i}] url: {e}"))?;
        }
        Ok(())
    }
}

/// An absolute http(s) URL with a host, without spaces or control characters.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.len() > MAX_URL {
        return Err(format!("longer than {MAX_URL} characters"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "'{}' has spaces or control characters",
            url.escape_debug()
        ));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("'{url}' must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("'{url}' names no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_url;
    use crate::config::Config;
    use crate::incident::Severity;
    use proptest::prelude::*;

    #[test]
    fn webhooks_are_read_with_their_severity_and_bad_urls_are_named() {
        let c = Config::parse(
            "[[alerts.webhook]]\nurl = \"https://hooks.example.com/T0/B0/x\"\n\
             [[alerts.webhook]]\nurl = \"http://127.0.0.1:9000/hook\"\nmin_severity = \"critical\"\n",
        )
        .unwrap();
        assert_eq!(c.alerts.webhook.len(), 2);
        assert_eq!(c.alerts.webhook[0].min_severity, Severity::Warning);
        assert_eq!(c.alerts.webhook[1].min_severity, Severity::Critical);
        let err = |url: &str| {
            Config::parse(&format!("[[alerts.webhook]]\nurl = \"{url}\"\n")).unwrap_err()
        };
        assert!(err("ftp://x/").contains("alerts.webhook[0] url: 'ftp://x/' must start with http"));
        assert!(err("http:///path").contains("names no host"));
        assert!(err("http://a b/").contains("spaces"));
        assert!(
            Config::parse("[[alerts.webhook]]\nurl = \"http://x/\"\nmin_severity = \"loud\"\n")
                .unwrap_err()
                .contains("unknown variant")
        );
    }

    proptest! {
        /// Any text: a verdict, never a panic; what passes starts with a scheme and has a host.
        #[test]
        fn any_url_gets_a_verdict(url in ".{0,80}") {
            if check_url(&url).is_ok() {
                prop_assert!(url.starts_with("http://") || url.starts_with("https://"));
                prop_assert!(url.len() > "http://".len());
            }
        }
    }
}
