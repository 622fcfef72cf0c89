//! The OpenAPI schemas of request fields whose accepted values a derive cannot state: the
//! ranges and forms that validation adds to a type. Used as `#[schema(schema_with = ...)]` in
//! `dto.rs`, so the description says exactly what the server accepts.

use crate::dto::{DurationValue, TimeValue};
use nightshift_core::schema::{QUEUE_NAME, integer, nullable, unsigned};
use nightshift_core::timestamp::{EARLIEST_MS, LATEST_MS};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::{RefOr, schema::SchemaFormat};

fn text(pattern: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// `cmd`: the program (not empty) and its arguments. No string may hold a NUL byte; that is
/// said in words, not as a pattern (`^[^\x00]*$`), since schemathesis 4.32 makes "invalid"
/// values for such a pattern that match it.
pub fn command() -> Schema {
    ArrayBuilder::new()
        .min_items(Some(1))
        .prefix_items([string().min_length(Some(1)).build()])
        .items(string())
        .description(Some(
            "The program, then its arguments; no NUL byte in any (no program can receive one).",
        ))
        .build()
        .into()
}

/// `env`: names not empty and without '=', values (like names) without NUL.
pub fn env() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(text("^[^=]+$")))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(
            string().build().into(),
        ))))
        .description(Some(
            "Variables added to the daemon's environment: names without '=', no NUL byte.",
        ))
        .build()
        .into()
}

/// A directory: an absolute path to a folder that exists when the job is added. No pattern
/// beside the format, so that the fuzzer draws it from the format's generator.
pub fn directory() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("path".into())))
        .build()
}

/// `cwd`: a directory, or null.
pub fn cwd() -> Schema {
    described(
        nullable(directory()),
        "An absolute path to a directory that exists when the job is added.",
    )
}

/// `schema` with a description beside it (not inside: a string schema with only a type and a
/// format is drawn from the format's generator).
fn described(schema: Schema, description: &str) -> Schema {
    match schema {
        Schema::OneOf(mut one_of) => {
            one_of.description = Some(description.to_string());
            Schema::OneOf(one_of)
        }
        other => other,
    }
}

pub fn queue() -> Schema {
    nullable(text(QUEUE_NAME))
}

/// A unique key: 1 to 200 characters, no NUL.
pub fn unique_key() -> Schema {
    described(
        nullable(string().min_length(Some(1)).max_length(Some(200))),
        "1 to 200 characters, no NUL byte.",
    )
}

pub fn max_attempts() -> Schema {
    nullable(integer(
        1,
        i64::from(nightshift_core::job::MAX_ATTEMPTS_LIMIT),
    ))
}

pub fn percent() -> Schema {
    nullable(integer(0, 100))
}

pub fn millis() -> Schema {
    nullable(unsigned(0, u64::MAX))
}

pub fn optional_bool() -> Schema {
    nullable(ObjectBuilder::new().schema_type(Type::Boolean))
}

pub fn count() -> Schema {
    nullable(unsigned(0, u64::from(u32::MAX)))
}

pub fn positive_count() -> Schema {
    nullable(unsigned(1, u64::from(u32::MAX)))
}

/// Milliseconds, or a duration with a unit ("90s", "1h30m").
impl utoipa::PartialSchema for DurationValue {
    fn schema() -> RefOr<Schema> {
        Schema::OneOf(
            OneOfBuilder::new()
                .item(unsigned(0, u64::MAX))
                .item(duration_text())
                .description(Some(DURATION))
                .build(),
        )
        .into()
    }
}

impl utoipa::ToSchema for DurationValue {}

/// Unix milliseconds in the accepted range, or RFC 3339 text.
impl utoipa::PartialSchema for TimeValue {
    fn schema() -> RefOr<Schema> {
        Schema::OneOf(
            OneOfBuilder::new()
                .item(integer(EARLIEST_MS, LATEST_MS))
                .item(ObjectBuilder::new().schema_type(Type::String).format(Some(
                    SchemaFormat::KnownFormat(utoipa::openapi::schema::KnownFormat::DateTime),
                )))
                .description(Some(
                    "A point in time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z: \
                     Unix milliseconds, or RFC 3339 text.",
                ))
                .build(),
        )
        .into()
    }
}

impl utoipa::ToSchema for TimeValue {}

/// `limit`: a page of 1 to 1000 jobs.
pub fn page_size() -> Schema {
    nullable(integer(1, i64::from(crate::MAX_PAGE)))
}

/// `reset`: the settings of a queue that can be forgotten.
pub fn resettable() -> Schema {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(crate::QUEUE_RESETTABLE)),
        )
        .build()
        .into()
}

/// A duration with a unit, as `nightshift_core::duration::parse` reads it. Not JSON Schema's
/// `duration`, which is ISO 8601 (`PT90S`): a validator that knows that format would take
/// `"90s"` for invalid (a fuzzer then calls its acceptance a bug).
fn duration_text() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("human-duration".into())))
}

const DURATION: &str =
    "Milliseconds, or a number with a unit: \"90s\", \"30m\", \"1h30m\", \"250ms\".";

/// Milliseconds from `min` to `max`, or a duration with a unit in that range, or null.
fn duration_within(min: u64, max: u64) -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(unsigned(min, max))
            .item(duration_text())
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some(DURATION))
            .build(),
    )
}

/// A window or a step of the metrics history: a duration with a unit, or absent.
pub fn window() -> Schema {
    described(
        Schema::OneOf(
            OneOfBuilder::new()
                .item(duration_text())
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .build(),
        ),
        "A number with a unit: \"90m\", \"24h\", \"7d\"; rounded up to whole minutes, at most \
         100 years.",
    )
}

/// A time as Unix milliseconds, within the accepted range of times, or absent.
pub fn time_ms() -> Schema {
    nullable(integer(EARLIEST_MS, LATEST_MS))
}

/// A timeout or a retry's wait: longer than zero.
pub fn positive_duration() -> Schema {
    duration_within(1, u64::MAX)
}

/// A `delay`: at most 100 years.
pub fn delay() -> Schema {
    duration_within(0, crate::enqueue::MAX_DELAY.as_millis() as u64)
}

/// A pool's heartbeat: 1 s to 1 h, as milliseconds or seconds with their unit ("10s").
pub fn heartbeat() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(unsigned(1000, 3_600_000))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::Custom("heartbeat".into()))),
            )
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some(
                "1 s to 1 h: milliseconds, or a number with a unit (\"10s\", \"1m\").",
            ))
            .build(),
    )
}

/// A snooze: 1 minute to 30 days, as milliseconds or a number with its unit ("2h").
pub fn snooze() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(unsigned(60_000, 30 * 86_400_000))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::Custom("snooze".into()))),
            )
            .description(Some(
                "1 minute to 30 days: milliseconds, or a number with a unit (\"30m\", \"2h\", \"1d\").",
            ))
            .build(),
    )
}

/// A schedule's interval: at least a second, at most `i64::MAX` milliseconds.
pub fn interval() -> Schema {
    duration_within(1000, i64::MAX as u64)
}

/// A five-field cron expression or a nickname (@daily).
pub fn cron() -> Schema {
    described(
        nullable(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::Custom("cron".into()))),
        ),
        "Five fields (minute hour day-of-month month day-of-week) in local time, \
         or @hourly, @daily, @weekly, @monthly, @yearly, @annually.",
    )
}
