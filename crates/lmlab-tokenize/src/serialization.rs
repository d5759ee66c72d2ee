//! The versioned JSON envelope shared by every tokenizer kind:
//! `{"format": "lmlab-tokenizer", "version": 1, "kind": "...", ...kind fields}`.

use lmlab_core::tokenizer::TOKENIZER_FORMAT_VERSION;
use lmlab_core::{Error, Result};
use serde_json::{json, Map, Value};

/// The `format` field's value.
pub const FORMAT_NAME: &str = "lmlab-tokenizer";

/// Wraps a kind's fields in the envelope.
pub fn envelope(kind: &str, fields: Value) -> Value {
    let mut map = Map::new();
    map.insert("format".into(), json!(FORMAT_NAME));
    map.insert("version".into(), json!(TOKENIZER_FORMAT_VERSION));
    map.insert("kind".into(), json!(kind));
    if let Value::Object(fields) = fields {
        map.extend(fields);
    }
    Value::Object(map)
}

/// Checks the envelope and returns the kind name.
pub fn check_envelope(value: &Value) -> Result<&str> {
    let object = value
        .as_object()
        .filter(|o| o.get("format").and_then(Value::as_str) == Some(FORMAT_NAME))
        .ok_or_else(|| {
            Error::invalid("not an lmlab tokenizer (no \"format\": \"lmlab-tokenizer\")")
        })?;
    let version = object.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version == 0 || version > u64::from(TOKENIZER_FORMAT_VERSION) {
        return Err(Error::invalid(format!(
            "tokenizer format version {version} is not one this lmlab reads \
             ({TOKENIZER_FORMAT_VERSION}); upgrade lmlab"
        )));
    }
    object
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid("tokenizer has no \"kind\""))
}

/// Reads a field the kind needs, with a message naming it.
pub fn field<'a>(value: &'a Value, name: &str) -> Result<&'a Value> {
    value
        .get(name)
        .ok_or_else(|| Error::invalid(format!("tokenizer has no \"{name}\" field")))
}
