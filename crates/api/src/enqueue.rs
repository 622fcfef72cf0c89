//! Turning enqueue requests into validated jobs, refusing bad input with a message that names
//! the problem (and, in a batch, the line).

use crate::dto::{DurationValue, EnqueueRequest, TimeValue};
use crate::error::{ApiError, ErrorKind};
use nightshift_core::{Config, JobSpec};
use nightshift_store::NewJob;

pub const DEFAULT_QUEUE: &str = "default";

/// The longest `delay`: 100 years of 365.25 days. A fixed bound, unlike "before the end of
/// year 9999" (which it keeps well inside), so the API's description can state it exactly.
pub const MAX_DELAY: std::time::Duration = std::time::Duration::from_millis(3_155_760_000_000);

/// When the job may start, from `run_at` or `delay` (not both), checked against the range of
/// times Nightshift accepts (`nightshift_core::timestamp`), so no later arithmetic on it can
/// overflow.
fn start_time(
    run_at: Option<TimeValue>,
    delay: Option<DurationValue>,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    use nightshift_core::timestamp;
    let at = match (run_at, delay) {
        (Some(_), Some(_)) => Err("give either run_at or delay, not both".to_string()),
        (None, None) => return Ok(None),
        (Some(TimeValue::Millis(ms)), None) => {
            timestamp::check(ms).map_err(|e| format!("run_at: {e}"))
        }
        (Some(TimeValue::Text(text)), None) => {
            timestamp::parse(&text).map_err(|e| format!("run_at: {e}"))
        }
        (None, Some(delay)) => duration_of(&delay)
            .and_then(|d| {
                if d > MAX_DELAY {
                    Err(format!(
                        "{} is longer than the longest wait, 100 years",
                        nightshift_core::duration::format_short(d)
                    ))
                } else {
                    Ok(d)
                }
            })
            .and_then(|d| timestamp::after(now, d))
            .map_err(|e| format!("delay: {e}")),
    };
    at.map(Some).map_err(ApiError::bad_request)
}

/// A duration given as milliseconds or as human text.
pub(crate) fn duration_of(value: &DurationValue) -> Result<std::time::Duration, String> {
    match value {
        DurationValue::Millis(ms) => Ok(std::time::Duration::from_millis(*ms)),
        DurationValue::Human(text) => nightshift_core::duration::parse(text),
    }
}

/// What a queue gives jobs added without their own timeout or attempts.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueueDefaults {
    pub timeout_ms: Option<u64>,
    pub max_attempts: Option<u32>,
    /// The worker pool serving the queue: its jobs have no program, their words are
    /// arguments for the worker.
    pub pool: Option<String>,
}

/// Looks up a queue's defaults by name.
pub(crate) type Defaults<'a> = &'a dyn Fn(&str) -> QueueDefaults;

pub(crate) fn prepare(
    config: &Config,
    defaults: Defaults<'_>,
    request: EnqueueRequest,
    now: i64,
) -> Result<NewJob, ApiError> {
    let EnqueueRequest {
        cmd,
        shell,
        env,
        cwd,
        queue,
        priority,
        timeout,
        run_at,
        delay,
        max_attempts,
        notify,
        unique,
        payload,
        require_ac,
        min_battery,
        on_power_loss,
        after,
        leave_running,
    } = request;
    let queue_name = queue.as_deref().unwrap_or(DEFAULT_QUEUE);
    let pool = defaults(queue_name).pool;
    if pool.is_none() && (cmd.is_empty() || cmd[0].is_empty()) {
        return Err(ApiError::bad_request(format!(
            "cmd is empty: give the program and its arguments (only a queue served by a worker \
             pool takes jobs without a command, and no pool serves queue '{queue_name}': see \
             nightshift worker add)"
        )));
    }
    // A conflict with the queue as it is now (a pool serves it), not malformed input: the same
    // request is good for a queue without a pool.
    if let Some(pool) = &pool
        && shell
    {
        return Err(ApiError::new(
            crate::ErrorKind::Conflict,
            format!(
                "shell: queue '{queue_name}' is served by pool '{pool}', whose workers run its \
                 jobs; there is no shell to run"
            ),
        ));
    }
    let (program, args) = if pool.is_some() {
        // A pool's job: its words go to the worker as arguments.
        (String::new(), cmd)
    } else if shell {
        ("/bin/sh".to_string(), vec!["-c".to_string(), cmd.join(" ")])
    } else {
        (cmd[0].clone(), cmd[1..].to_vec())
    };
    // A timeout longer than u64 milliseconds (half a billion years) is no end at all, which is
    // what the runner makes of any deadline its clock cannot hold.
    let timeout_ms = timeout
        .map(|t| duration_of(&t).map_err(|e| ApiError::bad_request(format!("timeout: {e}"))))
        .transpose()?
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let queue = queue.unwrap_or_else(|| DEFAULT_QUEUE.to_string());
    let queue_defaults = defaults(&queue);
    let spec = JobSpec {
        program,
        args,
        shell,
        env,
        cwd,
        priority,
        timeout_ms: timeout_ms.or(queue_defaults.timeout_ms),
        max_attempts: max_attempts
            .or(queue_defaults.max_attempts)
            .unwrap_or(config.jobs.max_attempts),
        notify,
        unique_key: unique,
        require_ac,
        min_battery: min_battery.filter(|m| *m > 0),
        on_power_loss,
        queue,
        leave_running,
    };
    if let Some(min) = min_battery {
        nightshift_core::power_policy::validate_min_battery(min)
            .map_err(|e| ApiError::bad_request(format!("min_battery: {e}")))?;
    }
    match pool {
        Some(_) => spec.validate_for_worker(),
        None => spec.validate(),
    }
    .map_err(|e| ApiError::bad_request(e.0))?;
    let run_at = start_time(run_at, delay, now)?;
    let payload = match payload {
        None => None,
        Some(raw) => {
            let bytes = raw.get().as_bytes();
            let cap = config.jobs.max_payload_bytes;
            if bytes.len() as u64 > cap {
                return Err(payload_too_large(bytes.len() as u64, cap));
            }
            Some(bytes.to_vec())
        }
    };
    Ok(NewJob {
        spec,
        run_at,
        payload,
        after,
    })
}

/// Refuses jobs whose working directory is not a directory the daemon can see, so a typo is
/// named when the job is added rather than found when it starts. Each folder is looked at once
/// however many jobs share it, on a blocking thread (a path may be on a slow mount).
pub(crate) async fn check_working_dirs(jobs: &[NewJob]) -> Result<(), ApiError> {
    let dirs: std::collections::BTreeSet<std::path::PathBuf> =
        jobs.iter().filter_map(|j| j.spec.cwd.clone()).collect();
    if dirs.is_empty() {
        return Ok(());
    }
    tokio::task::spawn_blocking(move || {
        for dir in dirs {
            match std::fs::metadata(&dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(ApiError::bad_request(format!(
                        "cwd: {} is not a directory",
                        dir.display()
                    )));
                }
                Err(e) => {
                    return Err(ApiError::bad_request(format!(
                        "cwd: cannot use {} as the working directory: {e}",
                        dir.display()
                    )));
                }
            }
        }
        Ok(())
    })
    .await
    .map_err(ApiError::internal)?
}

pub(crate) fn payload_too_large(size: u64, cap: u64) -> ApiError {
    ApiError::new(
        ErrorKind::PayloadTooLarge,
        format!(
            "the payload is {size} bytes ({}), over the limit of {cap} bytes ({}); nothing was \
             stored. Raise jobs.max_payload_bytes in the config file to allow it",
            human_bytes(size),
            human_bytes(cap)
        ),
    )
}

pub use nightshift_core::human_bytes;

/// A batch's `cwd` must be an absolute path without NUL whether or not a line takes it, so a
/// bad one is refused rather than silently ignored (its existence is checked with the jobs
/// that take it).
fn check_default_cwd(cwd: &std::path::Path) -> Result<(), ApiError> {
    let mut probe = JobSpec::command(&["true"], DEFAULT_QUEUE);
    probe.cwd = Some(cwd.to_path_buf());
    probe
        .validate()
        .map_err(|e| ApiError::bad_request(format!("cwd: {}", e.0)))
}

/// Parses and validates every line of a JSON Lines body; blank lines are skipped.
pub(crate) fn prepare_lines(
    config: &Config,
    defaults: Defaults<'_>,
    body: &[u8],
    default_cwd: Option<std::path::PathBuf>,
    now: i64,
) -> Result<Vec<NewJob>, ApiError> {
    if let Some(cwd) = &default_cwd {
        check_default_cwd(cwd)?;
    }
    let mut jobs = Vec::new();
    for (index, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = |e: ApiError| ApiError::new(e.code, format!("line {}: {}", index + 1, e.message));
        let mut request: EnqueueRequest =
            serde_json::from_slice(line).map_err(|e| at(ApiError::bad_request(e.to_string())))?;
        if request.cwd.is_none() {
            request.cwd.clone_from(&default_cwd);
        }
        jobs.push(prepare(config, defaults, request, now).map_err(at)?);
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> QueueDefaults {
        QueueDefaults::default()
    }

    /// A batch's `cwd` that no line takes is still checked: it was silently ignored before.
    #[test]
    fn a_bad_batch_cwd_is_refused_even_when_every_line_has_its_own() {
        let body = br#"{"cmd": ["true"], "cwd": "/"}"#;
        for bad in ["relative/dir", "/tmp/a\0b"] {
            let err =
                prepare_lines(&Config::default(), &none, body, Some(bad.into()), 0).unwrap_err();
            assert!(err.message.starts_with("cwd:"), "{bad}: {}", err.message);
        }
        let jobs = prepare_lines(&Config::default(), &none, body, Some("/tmp".into()), 0).unwrap();
        assert_eq!(jobs[0].spec.cwd.as_deref(), Some(std::path::Path::new("/")));
    }

    /// JSON has one kind of number: integers written as `3.0` or `3e3` are integers (JSON
    /// Schema's `integer`, which the description states, admits them).
    #[test]
    fn whole_numbers_written_as_floats_are_integers() {
        let line = br#"{"cmd": ["true"], "priority": -2.0, "max_attempts": 3.0, "min_battery": 3e1, "timeout": 1500.0, "run_at": 1e3, "after": [7.0]}"#;
        let jobs = prepare_lines(&Config::default(), &none, line, None, 0).unwrap();
        let job = &jobs[0];
        assert_eq!(job.spec.priority, -2);
        assert_eq!(job.spec.max_attempts, 3);
        assert_eq!(job.spec.min_battery, Some(30));
        assert_eq!(job.spec.timeout_ms, Some(1500));
        assert_eq!(job.run_at, Some(1000));
        assert_eq!(job.after, vec![nightshift_core::JobId(7)]);
        for bad in [
            br#"{"cmd": ["true"], "priority": 1.5}"#.as_slice(),
            br#"{"cmd": ["true"], "max_attempts": 3.25}"#,
            br#"{"cmd": ["true"], "run_at": 1.5}"#,
            br#"{"cmd": ["true"], "after": [0.0]}"#,
            br#"{"cmd": ["true"], "min_battery": 256.0}"#,
        ] {
            assert!(
                prepare_lines(&Config::default(), &none, bad, None, 0).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_queue_gives_its_defaults_to_jobs_that_bring_none() {
        let defaults = |queue: &str| QueueDefaults {
            timeout_ms: (queue == "slow").then_some(7_200_000),
            max_attempts: (queue == "slow").then_some(3),
            pool: None,
        };
        let req = |queue: &str, timeout: Option<DurationValue>| EnqueueRequest {
            cmd: vec!["true".into()],
            queue: Some(queue.into()),
            timeout,
            ..Default::default()
        };
        let job = prepare(&Config::default(), &defaults, req("slow", None), 0).unwrap();
        assert_eq!(
            (job.spec.timeout_ms, job.spec.max_attempts),
            (Some(7_200_000), 3)
        );
        let own = Some(DurationValue::Millis(5));
        let job = prepare(&Config::default(), &defaults, req("slow", own), 0).unwrap();
        assert_eq!(job.spec.timeout_ms, Some(5), "the job's own timeout wins");
        let job = prepare(&Config::default(), &defaults, req("other", None), 0).unwrap();
        assert_eq!((job.spec.timeout_ms, job.spec.max_attempts), (None, 1));
        let bad = EnqueueRequest {
            min_battery: Some(120),
            ..req("slow", None)
        };
        let err = prepare(&Config::default(), &defaults, bad, 0).unwrap_err();
        assert!(err.message.contains("0 to 100"), "{}", err.message);
    }

    #[test]
    fn shell_lines_become_sh_dash_c() {
        let req = EnqueueRequest {
            cmd: vec!["echo hi |".into(), "wc -l".into()],
            shell: true,
            ..Default::default()
        };
        let job = prepare(&Config::default(), &none, req, 0).unwrap();
        assert_eq!(job.spec.program, "/bin/sh");
        assert_eq!(job.spec.args, vec!["-c", "echo hi | wc -l"]);
    }

    #[test]
    fn oversize_payload_names_both_sizes() {
        let mut config = Config::default();
        config.jobs.max_payload_bytes = 10;
        let payload = serde_json::value::RawValue::from_string("\"0123456789abc\"".into()).unwrap();
        let req = EnqueueRequest {
            cmd: vec!["true".into()],
            payload: Some(payload),
            ..Default::default()
        };
        let err = prepare(&config, &none, req, 0).unwrap_err();
        assert_eq!(err.code, ErrorKind::PayloadTooLarge);
        assert!(
            err.message.contains("15 bytes") && err.message.contains("10 bytes"),
            "{}",
            err.message
        );
    }

    #[test]
    fn batch_errors_name_the_line_and_store_nothing() {
        let body = b"{\"cmd\":[\"true\"]}\n\n{\"cmd\":[\"true\"],\"queu\":\"x\"}\n";
        let err = prepare_lines(&Config::default(), &none, body, None, 0).unwrap_err();
        assert!(
            err.message.starts_with("line 3:") && err.message.contains("queu"),
            "{}",
            err.message
        );
        let err = prepare_lines(
            &Config::default(),
            &none,
            b"{\"cmd\":[\"true\"],\"timeout\":\"5\"}",
            None,
            0,
        )
        .unwrap_err();
        assert!(err.message.contains("line 1: timeout"), "{}", err.message);
    }
}

#[cfg(test)]
mod start_time_tests {
    use super::*;

    #[test]
    fn run_at_and_delay_give_the_start_and_bad_forms_are_named() {
        assert_eq!(start_time(None, None, 1000).unwrap(), None);
        assert_eq!(
            start_time(None, Some(DurationValue::Human("10s".into())), 1000).unwrap(),
            Some(11_000)
        );
        assert_eq!(
            start_time(Some(TimeValue::Millis(5)), None, 1000).unwrap(),
            Some(5)
        );
        assert_eq!(
            start_time(
                Some(TimeValue::Text("2026-11-22T23:00:00Z".into())),
                None,
                0
            )
            .unwrap(),
            Some(1_795_388_400_000)
        );
        let err = start_time(Some(TimeValue::Text("tomorrow".into())), None, 0).unwrap_err();
        assert!(err.message.contains("RFC 3339"), "{}", err.message);
        assert!(
            start_time(
                Some(TimeValue::Millis(1)),
                Some(DurationValue::Millis(1)),
                0
            )
            .is_err()
        );
    }

    #[test]
    fn times_past_the_range_are_refused_and_offsets_and_early_years_accepted() {
        let now = 1_795_388_400_000;
        for run_at in [i64::MIN, i64::MAX, 253_402_300_800_000] {
            let err = start_time(Some(TimeValue::Millis(run_at)), None, now).unwrap_err();
            assert!(err.message.starts_with("run_at:"), "{}", err.message);
        }
        for delay in [i64::MAX as u64, 1 << 63, u64::MAX] {
            let err = start_time(None, Some(DurationValue::Millis(delay)), now).unwrap_err();
            assert!(err.message.starts_with("delay:"), "{}", err.message);
        }
        let err =
            start_time(None, Some(DurationValue::Human("9000years".into())), now).unwrap_err();
        assert!(err.message.contains("100 years"), "{}", err.message);
        // Near the end of the range, a wait under the cap still must end before year 10000.
        let late = nightshift_core::timestamp::LATEST_MS - 1000;
        let err = start_time(None, Some(DurationValue::Human("1y".into())), late).unwrap_err();
        assert!(err.message.contains("9999"), "{}", err.message);
        let text = |t: &str| start_time(Some(TimeValue::Text(t.into())), None, now);
        assert_eq!(text("2026-11-23T00:00:00+01:00").unwrap(), Some(now));
        assert_eq!(
            text("0001-01-01T00:00:00Z").unwrap(),
            Some(nightshift_core::timestamp::EARLIEST_MS)
        );
    }

    /// The description states the cap as a fixed maximum (100 years of ms), so it must be
    /// exact: the cap itself is taken, a millisecond more is not, whatever the time now.
    #[test]
    fn a_delay_is_at_most_100_years() {
        let cap = MAX_DELAY.as_millis() as u64;
        assert_eq!(cap, 3_155_760_000_000);
        let now = 1_795_388_400_000;
        assert_eq!(
            start_time(None, Some(DurationValue::Millis(cap)), now).unwrap(),
            Some(now + cap as i64)
        );
        assert_eq!(
            start_time(None, Some(DurationValue::Human("36525d".into())), now).unwrap(),
            Some(now + cap as i64)
        );
        let err = start_time(None, Some(DurationValue::Millis(cap + 1)), now).unwrap_err();
        assert!(err.message.contains("100 years"), "{}", err.message);
    }

    proptest::proptest! {
        /// Whatever a batch body holds (broken JSON, stray bytes, half lines), it is refused
        /// with the line named or accepted whole; never a panic.
        #[test]
        fn any_batch_body_is_refused_or_accepted_whole(
            lines in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex(".{0,40}").unwrap(),
                    proptest::strategy::Just(r#"{"cmd":["true"]}"#.to_string()),
                    proptest::strategy::Just(r#"{"cmd":["true"],"run_at":-9223372036854775808}"#.to_string()),
                    proptest::strategy::Just(r#"{"cmd":["true"],"delay":18446744073709551615}"#.to_string()),
                ],
                0..6,
            ),
        ) {
            let body = lines.join("\n");
            match prepare_lines(&Config::default(), &|_| QueueDefaults::default(), body.as_bytes(), None, 0) {
                Ok(jobs) => proptest::prop_assert!(jobs.len() <= lines.len()),
                Err(e) => proptest::prop_assert!(e.message.starts_with("line ")),
            }
        }

        #[test]
        fn any_start_time_is_refused_or_in_range(
            run_at in proptest::option::of(proptest::num::i64::ANY),
            delay in proptest::option::of(proptest::num::u64::ANY),
            now in 0i64..=nightshift_core::timestamp::LATEST_MS,
        ) {
            let result = start_time(
                run_at.map(TimeValue::Millis),
                delay.map(DurationValue::Millis),
                now,
            );
            if let Ok(Some(at)) = result {
                proptest::prop_assert!(nightshift_core::timestamp::check(at).is_ok());
            }
        }
    }
}
