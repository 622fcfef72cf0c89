//! The OpenAPI schemas of request fields whose accepted values a derive cannot state: the
//! ranges and forms that validation adds to a type. Used as `#[schema(schema_with = ...)]` in
//! `dto.rs`, so the description says exactly what the server accepts.

use crate::dto::{DurationValue, TimeValue};
use nightshift_core::schema::{NO_NUL, QUEUE_NAME, integer, nullable, unsigned};
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

/// `cmd`: the program (not empty) and its arguments, none with a NUL byte.
pub fn command() -> Schema {
    ArrayBuilder::new()
        .min_items(Some(1))
        .prefix_items([text(NO_NUL).min_length(Some(1)).build()])
        .items(text(NO_NUL))
        .build()
        .into()
}

/// `env`: names without '=' or NUL, values without NUL.
pub fn env() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(text("^[^=\\x00]+$")))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(
            text(NO_NUL).build().into(),
        ))))
        .build()
        .into()
}

/// `cwd`: an absolute path (to a folder that exists when the job is added), or null.
pub fn cwd() -> Schema {
    nullable(
        text("^/[^\\x00]*$")
            .format(Some(SchemaFormat::Custom("path".into())))
            .description(Some(
                "An absolute path to a directory that exists when the job is added.",
            )),
    )
}

pub fn queue() -> Schema {
    nullable(text(QUEUE_NAME))
}

/// A unique key: 1 to 200 characters, no NUL.
pub fn unique_key() -> Schema {
    nullable(text("^[^\\x00]{1,200}$"))
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
                .item(unsigned(0, u64::MAX).description(Some("Milliseconds.")))
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::Custom("duration".into())))
                        .description(Some(
                            "A number with a unit: \"90s\", \"30m\", \"1h30m\", \"250ms\".",
                        )),
                )
                .description(Some("A duration: milliseconds, or text with a unit."))
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
                .item(integer(EARLIEST_MS, LATEST_MS).description(Some(
                    "Unix milliseconds, from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z.",
                )))
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(
                            utoipa::openapi::schema::KnownFormat::DateTime,
                        )))
                        .description(Some(
                            "RFC 3339, from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z.",
                        )),
                )
                .description(Some(
                    "A point in time: Unix milliseconds, or RFC 3339 text.",
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
                .enum_values(Some(crate::RESETTABLE)),
        )
        .build()
        .into()
}
