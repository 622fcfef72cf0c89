//! Pieces of the API's OpenAPI description that derives cannot say: integer ranges exact to
//! the last unit (`#[schema(minimum = ..)]` takes a float, which cannot hold `i64::MAX`), and
//! the ranges that validation adds to a type (a job id is positive, a page 1 to 1000 long).
//! Each is used as `#[schema(schema_with = ...)]` on a field of a request.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{Object, Ref, RefOr, Schema, schema::OneOfBuilder};

/// An integer from `min` to `max`, both included.
pub fn integer(min: i64, max: i64) -> ObjectBuilder {
    let format = if i32::try_from(min).is_ok() && i32::try_from(max).is_ok() {
        KnownFormat::Int32
    } else {
        KnownFormat::Int64
    };
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(format)))
        .minimum(Some(min as isize))
        .maximum(Some(max as isize))
}

/// An unsigned integer from `min` to `max` (a `u64` reaches past `i64::MAX`).
pub fn unsigned(min: u64, max: u64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min as usize))
        .maximum(Some(max as usize))
}

/// `schema`, or `null` (an optional field that serde also takes as `null`).
pub fn nullable(schema: impl Into<RefOr<Schema>>) -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(schema)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build(),
    )
}

/// A reference to a named schema of the description.
pub fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

/// A job id as a request may give it: 1 to `i64::MAX`.
pub fn job_id() -> Object {
    integer(1, i64::MAX)
        .description(Some(
            "A job id: a whole number from 1 to 9223372036854775807.",
        ))
        .build()
}

/// A queue name: 1 to 64 letters, digits, '-', '_' or '.'.
pub const QUEUE_NAME: &str = "^[A-Za-z0-9._-]{1,64}$";

pub fn queue_name() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(QUEUE_NAME))
        .build()
}
