//! Property tests: whatever a request or a stored row holds, parsing and planning answer (with a
//! value or an error that names the input) and never panic, and a plan's next time is later than
//! now.

use super::super::{CronSchedule, Recurrence};
use chrono::Utc;
use proptest::prelude::*;

/// Cron-like text: mostly the characters a cron field uses, so the parser's deeper paths run.
fn cron_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9*/,@a-zA-Z -]{0,30}",
        proptest::collection::vec("(\\*|[0-9]{1,2}|[0-9]{1,2}-[0-9]{1,2}|\\*/[0-9]{1,2})", 5)
            .prop_map(|fields| fields.join(" ")),
    ]
}

proptest! {
    #[test]
    fn cron_text_parses_or_names_the_input(text in cron_text()) {
        match CronSchedule::parse(&text) {
            Ok(schedule) => {
                // What parsed is stored as text and must read back the same.
                let again = CronSchedule::parse(&schedule.to_string()).unwrap();
                prop_assert_eq!(again.to_string(), schedule.to_string());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn every_text_parses_or_is_refused(text in "[0-9]{0,25}(ms|s|m|h|d|days|years|y)?") {
        if let Ok(Recurrence::Every(d)) = Recurrence::every(&text) {
            prop_assert!(d.as_millis() >= 1_000 && d.as_millis() <= i64::MAX as u128);
        }
    }

    #[test]
    fn an_interval_plan_never_panics_and_moves_past_now(
        period_s in 1u64..10_000_000_000,
        anchor in any::<i64>(),
        next_due in any::<i64>(),
        now in any::<i64>(),
        catch_up in any::<bool>(),
    ) {
        let r = Recurrence::every(&format!("{period_s}s")).unwrap();
        let plan = r.plan_in(anchor, next_due, now, catch_up, &Utc);
        if let Some(next) = plan.next_due_ms {
            prop_assert!(next > now || next == next_due, "next {} now {} due {}", next, now, next_due);
        }
        if let Some(next) = r.next_after_in(anchor, now, &Utc) {
            prop_assert!(next > now);
        }
    }

    #[test]
    fn a_cron_plan_never_panics(
        minute in 0u32..60,
        now in crate::timestamp::EARLIEST_MS..=crate::timestamp::LATEST_MS,
        next_due in crate::timestamp::EARLIEST_MS..=crate::timestamp::LATEST_MS,
        catch_up in any::<bool>(),
    ) {
        let r = Recurrence::cron(&format!("{minute} * * * *")).unwrap();
        let plan = r.plan_in(0, next_due, now, catch_up, &Utc);
        if plan.missed > 0 && let Some(next) = plan.next_due_ms {
            prop_assert!(next > now);
        }
    }

    #[test]
    fn durations_parse_or_are_refused(text in "[0-9 .]{0,22}[a-z]{0,6}") {
        let _ = crate::duration::parse(&text);
    }

    #[test]
    fn queue_names_are_accepted_exactly_when_well_formed(name in "[a-zA-Z0-9._ /-]{0,70}") {
        let ok = !name.is_empty()
            && name.len() <= crate::job::MAX_QUEUE_NAME
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        prop_assert_eq!(crate::job::validate_queue_name(&name).is_ok(), ok);
    }
}
