//! Encoding functions: `base64`, `base64ToString`, `base64ToJson`, `dataUri`, `dataUriToString`,
//! `uri`, `uriComponent`, `uriComponentToString` (base64 by data-encoding, percent-encoding and
//! URI resolution by the `percent-encoding` and `url` crates).

use super::{to_text, Call, Failure, Outcome};
use crate::value::Value;
use data_encoding::BASE64;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What `uriComponent()` leaves as it is (RFC 3986 unreserved characters, as .NET's
/// `Uri.EscapeDataString`).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn decode(c: &Call<'_>, text: &str) -> Result<Vec<u8>, Failure> {
    let compact: String = text.chars().filter(|ch| !ch.is_whitespace()).collect();
    BASE64
        .decode(compact.as_bytes())
        .map_err(|e| c.error(&format!("of text that is not base64: {e}")))
}

/// `base64(text)`: the base64 of its UTF-8 bytes.
pub(super) fn base64(c: &Call<'_>) -> Outcome {
    c.bounded(BASE64.encode(c.str(0)?.as_bytes()))
}

/// `base64ToString(base64)`.
pub(super) fn base64_to_string(c: &Call<'_>) -> Outcome {
    let bytes = decode(c, c.str(0)?)?;
    Ok(Value::string(String::from_utf8_lossy(&bytes).into_owned()))
}

/// `base64ToJson(base64)`.
pub(super) fn base64_to_json(c: &Call<'_>) -> Outcome {
    let bytes = decode(c, c.str(0)?)?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .map(|j| Value::from_json(&j))
        .map_err(|e| c.error(&format!("of text that is not JSON: {e}")))
}

/// `dataUri(value)`: `data:text/plain;charset=utf8;base64,<base64 of the text>`.
pub(super) fn data_uri(c: &Call<'_>) -> Outcome {
    let text = to_text(c.arg(0)?)?;
    c.bounded(format!(
        "data:text/plain;charset=utf8;base64,{}",
        BASE64.encode(text.as_bytes())
    ))
}

/// `dataUriToString(dataUri)`: the data of a base64 or percent-encoded data URI.
pub(super) fn data_uri_to_string(c: &Call<'_>) -> Outcome {
    let s = c.str(0)?;
    let (meta, data) = s
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
        .ok_or_else(|| c.error("needs a data URI"))?;
    if meta.to_ascii_lowercase().ends_with(";base64") {
        let bytes = decode(c, data)?;
        Ok(Value::string(String::from_utf8_lossy(&bytes).into_owned()))
    } else {
        Ok(Value::string(
            percent_decode_str(data).decode_utf8_lossy().into_owned(),
        ))
    }
}

/// `uri(baseUri, relativeUri)`: the relative URI resolved against the base.
pub(super) fn uri(c: &Call<'_>) -> Outcome {
    let (base, relative) = (c.str(0)?, c.str(1)?);
    let base =
        url::Url::parse(base).map_err(|e| c.error(&format!("of a base that is not a URI: {e}")))?;
    let joined = base
        .join(relative)
        .map_err(|e| c.error(&format!("cannot resolve '{relative}': {e}")))?;
    c.bounded(joined.to_string())
}

/// `uriComponent(text)`: percent-encoded, every character but the unreserved ones.
pub(super) fn uri_component(c: &Call<'_>) -> Outcome {
    c.bounded(utf8_percent_encode(c.str(0)?, UNRESERVED).to_string())
}

/// `uriComponentToString(encoded)`.
pub(super) fn uri_component_to_string(c: &Call<'_>) -> Outcome {
    Ok(Value::string(
        percent_decode_str(c.str(0)?)
            .decode_utf8_lossy()
            .into_owned(),
    ))
}
