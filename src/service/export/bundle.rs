//! A FHIR R4 Bundle (collection) written a piece at a time, so that it can
//! be sent as its entries are read: its head up to the entries, each entry,
//! its tail. Written by serde_json's own writer (`Formatter`), each value
//! escaped by it, never cut out of a serialized document.

use chrono::Utc;
use serde_json::Value;
use serde_json::ser::{CompactFormatter, Formatter};

use crate::screening::timestamp;

/// Every write here is of a string or a `serde_json::Value` to a `Vec<u8>`:
/// memory does not refuse bytes, and neither value has a map key that is not
/// a string (serde_json's one error for them). A failure would be a fault of
/// this module, never of the data.
// PANIC SAFETY: see above; nothing here writes anything else.
#[allow(clippy::expect_used)]
fn in_memory(written: Result<(), impl std::fmt::Debug>) {
    written.expect("writing JSON to memory does not fail");
}

/// `"key":value` in an object, after a comma unless `first`.
fn member(out: &mut Vec<u8>, first: bool, key: &str, value: &str) {
    let f = &mut CompactFormatter;
    in_memory(f.begin_object_key(out, first));
    in_memory(serde_json::to_writer(&mut *out, key));
    in_memory(f.end_object_key(out));
    in_memory(f.begin_object_value(out));
    in_memory(serde_json::to_writer(&mut *out, value));
    in_memory(f.end_object_value(out));
}

/// A new Bundle, up to the start of its entries: a collection with an id
/// of its own and the time it was made.
pub(super) fn head() -> Vec<u8> {
    let mut out = Vec::new();
    let f = &mut CompactFormatter;
    in_memory(f.begin_object(&mut out));
    member(&mut out, true, "resourceType", "Bundle");
    member(&mut out, false, "id", &uuid::Uuid::new_v4().to_string());
    member(&mut out, false, "type", "collection");
    member(&mut out, false, "timestamp", &timestamp(Utc::now()));
    in_memory(f.begin_object_key(&mut out, false));
    in_memory(serde_json::to_writer(&mut out, "entry"));
    in_memory(f.end_object_key(&mut out));
    in_memory(f.begin_object_value(&mut out));
    in_memory(f.begin_array(&mut out));
    out
}

/// One entry, after a comma unless it is the Bundle's first; a line each.
pub(super) fn entry(out: &mut Vec<u8>, first: bool, entry: &Value) {
    let f = &mut CompactFormatter;
    in_memory(f.begin_array_value(out, first));
    in_memory(serde_json::to_writer(&mut *out, entry));
    in_memory(f.end_array_value(out));
    out.push(b'\n');
}

/// The end of the entries and of the Bundle.
pub(super) fn tail(out: &mut Vec<u8>) {
    let f = &mut CompactFormatter;
    in_memory(f.end_array(out));
    in_memory(f.end_object_value(out));
    in_memory(f.end_object(out));
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bundle_written_in_pieces_is_one_json_document() {
        for entries in [0, 1, 3] {
            let mut out = head();
            for n in 0..entries {
                entry(
                    &mut out,
                    n == 0,
                    &json!({"fullUrl": format!("urn:uuid:{n}"), "resource": {"a\"b": n}}),
                );
            }
            tail(&mut out);
            let bundle: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(bundle["resourceType"], "Bundle");
            assert_eq!(bundle["type"], "collection");
            let list = bundle["entry"].as_array().unwrap();
            assert_eq!(list.len(), entries);
            assert!(
                list.iter()
                    .enumerate()
                    .all(|(n, e)| e["resource"]["a\"b"] == n)
            );
            assert!(out.ends_with(b"]}\n"));
        }
    }
}
